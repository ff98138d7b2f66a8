/**
 * Admission for one pool: a request either starts now on a pod with headroom, or waits here in
 * priority-class then fair-share order until one has headroom, or is shed.
 *
 * Order of service: retries first (requests already admitted once whose pod failed before the first
 * byte), then `interactive`, `flex`, `batch` strictly, each a weighted fair queue over organizations.
 * Whenever capacity may have appeared (a request finished or got its first token, a scrape, a pod
 * came back) `pump()` starts as many waiting requests, head first, as pods accept. The head is never
 * skipped (a large prompt cannot be starved by small ones behind it).
 *
 * Shedding, always with retry-after (queue length ÷ recent admission rate, 1–60 s):
 *   - no pod of the pool in rotation            → 503 no_pod_available (retry-after: next half-open)
 *   - pool queue full                           → 503 model_overloaded
 *   - the organization's share of the queue full → 429 rate_limit_exceeded
 *   - waited longer than the class's timeout    → 503 model_overloaded
 * A client that disconnects leaves the queue at once (its AbortSignal).
 */
import type { PriorityClass } from '../config/config.js';
import { ApiError } from '../errors/api-error.js';
import { ErrorCode } from '../errors/error-codes.js';
import type { Pod } from '../fleet/pod.js';
import { PrefixAffinity } from './placement/prefix-affinity.js';
import { blocksToTokens, type PrefixKey } from './placement/prefix-hash.js';
import { loadScore, type Candidate, type RoutingPolicy } from './placement/pod-scorer.js';
import { refusal, type AdmissionLimits } from './admission.js';
import { FairQueue, type QueueEntry } from './fair-queue.js';
import { PRIORITY_CLASSES } from './priority.js';

/** When the scheduler may count a request's prefill as done. */
export type PrefillEnd = 'first-byte' | 'estimate' | 'completion';

/** What the scheduler knows about a request. Built once per request (router), reused on fallback. */
export interface Ticket {
  readonly id: string;
  /** Fair-share flow: the organization. */
  readonly flow: string;
  readonly weight: number;
  /** Fair-share cost (tokens). */
  readonly cost: number;
  readonly cls: PriorityClass;
  readonly promptTokens: number;
  readonly prefix: PrefixKey;
  /**
   * `first-byte` for streams (the dispatcher reports it); `estimate` for non-streamed generations (the
   * first token is not observable: prefill is counted done after the pool's recent time-to-first-token
   * per prompt token × this prompt); `completion` for embeddings (all prefill).
   */
  readonly prefillEnd: PrefillEnd;
}

export interface PoolSchedulerSettings extends AdmissionLimits {
  maxQueuedPerPool: number;
  maxQueuedPerOrg: number;
  queueTimeoutMs: Record<PriorityClass, number>;
  /** Upper bound of the affinity table (it is sized down to the pods' KV capacity). */
  affinityEntries: number;
  prefixBlockChars: number;
}

export type ShedReason = 'no_pod' | 'queue_full' | 'org_queue_full' | 'deadline';

/** Metrics hooks (scheduler.metrics.ts implements them; tests pass nothing). */
export interface SchedulerObserver {
  admitted?(pool: string, cls: PriorityClass, waitedMs: number): void;
  shed?(pool: string, cls: PriorityClass, reason: ShedReason): void;
  placed?(pool: string, matchedTokens: number, promptTokens: number): void;
}

/** Thrown to a retry when no pod it has not tried yet is in rotation. */
export class NoRetryTarget extends Error {}

/** Thrown when the caller's signal aborted while it waited (client gone, shutdown). */
export class AdmissionAborted extends Error {}

/** A request's hold on a pod: one slot of its budget until released. */
export class Lease {
  private released = false;
  private prefillDone = false;
  private prefillTimer?: NodeJS.Timeout;
  readonly grantedAt = performance.now();

  constructor(
    private readonly scheduler: PoolScheduler,
    readonly pod: Pod,
    readonly ticket: Ticket,
    /** Prompt tokens the pod is expected to compute (counted in its prefill budget). */
    readonly uncachedTokens: number,
    /** Prompt tokens the affinity table says the pod holds (before the learned hit ratio). */
    readonly matchedTokens: number,
    /** 0 for the first attempt. */
    readonly attempt: number,
    /** Pods tried before this one, for this request. */
    readonly tried: ReadonlySet<Pod>,
    readonly waitedMs: number,
  ) {
    // Only prefills whose end we observe: a non-streamed generation's end is our own estimate, and a
    // stall judged from it would be made up.
    if (ticket.prefillEnd !== 'estimate') pod.prefillsSince.add(this);
  }

  /** The first output reached us: the pod's prefill for this request is over. Idempotent. */
  firstToken(): void {
    if (this.prefillDone || this.released) return;
    this.endPrefill(true);
    this.scheduler.pump();
  }

  /**
   * The request is finished (any outcome): frees the slot. `cachedTokens` is the runtime's own count of
   * prompt tokens it found in its prefix cache (usage.prompt_tokens_details.cached_tokens), when it
   * reported one: the scheduler learns from it how far to trust the affinity table. Idempotent.
   */
  release(cachedTokens?: number): void {
    if (this.released) return;
    if (!this.prefillDone) this.endPrefill(false);
    this.released = true;
    this.pod.inFlight--;
    if (cachedTokens !== undefined) this.scheduler.observeCacheHit(this.matchedTokens, cachedTokens);
    this.scheduler.onReleased();
  }

  /**
   * Gives this pod up after a failure before the first byte and waits for another pod of the pool
   * (ahead of every queued request). Rejects with NoRetryTarget when every pod in rotation was tried.
   */
  retry(signal?: AbortSignal): Promise<Lease> {
    this.release();
    const tried = new Set(this.tried);
    tried.add(this.pod);
    return this.scheduler.readmit(this.ticket, tried, this.attempt + 1, signal);
  }

  /** @internal non-streamed generations: count the prefill done after an estimated time. */
  estimatePrefill(ms: number): void {
    this.prefillTimer = setTimeout(() => this.firstToken(), ms);
    this.prefillTimer.unref();
  }

  private endPrefill(observed: boolean): void {
    this.prefillDone = true;
    clearTimeout(this.prefillTimer);
    this.pod.prefilling--;
    this.pod.prefillTokens -= this.uncachedTokens;
    this.pod.prefillsSince.delete(this);
    if (observed && this.ticket.prefillEnd === 'first-byte') this.scheduler.observeTtft(performance.now() - this.grantedAt, this.uncachedTokens);
  }
}

interface Waiter {
  readonly flow: string;
  readonly weight: number;
  readonly cost: number;
  readonly ticket: Ticket;
  readonly exclude: ReadonlySet<Pod>;
  readonly attempt: number;
  readonly enqueuedAt: number;
  resolve(lease: Lease): void;
  reject(err: Error): void;
  entry?: QueueEntry<Waiter>;
  cancelled: boolean;
  timer?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const NO_PODS: ReadonlySet<Pod> = new Set();
/** Fixed part of a time-to-first-token, in prompt-token equivalents (frontend, first step). */
const TTFT_FIXED_TOKENS = 256;
const RATE_TAU_S = 5;
/**
 * Memory of the hit ratio, in matched tokens: each observation decays the sums by
 * exp(-matched / HIT_MEMORY_TOKENS), so the ratio follows the last ~100 multi-thousand-token matches.
 */
const HIT_MEMORY_TOKENS = 256_000;
/** Prior of the hit ratio: believe the table fully, with the weight of this many matched tokens. */
const HIT_PRIOR_TOKENS = 8_192;

export class PoolScheduler {
  private readonly queues = new Map<PriorityClass, FairQueue<Waiter>>(PRIORITY_CLASSES.map((c) => [c, new FairQueue<Waiter>()]));
  private readonly retries: Waiter[] = [];
  readonly affinity: PrefixAffinity;
  private pumping = false;
  private pumpAgain = false;
  /** EWMA of admissions per second (for retry-after), and of TTFT ms per prompt-token equivalent. */
  private admitRate = 0;
  private lastAdmitAt = performance.now();
  private msPerToken = 0.05;
  /** EWMA of prompt characters per token (to turn prefix blocks into tokens of KV cache). */
  private charsPerToken = 4;
  /**
   * Decayed sums of the prefix-cache hits the runtimes reported (capped at the table's claim) and of
   * what the table claimed, for the requests where it claimed any: their ratio is how much of a match
   * to expect. The table is what we sent, not what the pods still hold; when they evict faster than it
   * forgets, counting its full claim would admit more real prefill than the budget allows, and the
   * excess would wait in the runtimes' FCFS queues where fair share cannot reorder it.
   */
  private hitTokens = HIT_PRIOR_TOKENS;
  private claimedTokens = HIT_PRIOR_TOKENS;

  constructor(
    readonly name: string,
    private readonly pods: () => readonly Pod[],
    private readonly policy: RoutingPolicy,
    private readonly settings: PoolSchedulerSettings,
    private readonly observer: SchedulerObserver = {},
  ) {
    this.affinity = new PrefixAffinity(settings.affinityEntries);
  }

  get policyName(): string {
    return this.policy.name;
  }

  /** Share of the affinity table's matches the runtimes' prefix caches actually hit, recently (0–1). */
  get hitRatio(): number {
    return this.hitTokens / this.claimedTokens;
  }

  /** Requests waiting (all classes, retries included). */
  queued(cls?: PriorityClass): number {
    if (cls) return this.queues.get(cls)!.size;
    let n = this.retries.length;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }

  /** No pod of the pool is in rotation. */
  isDown(now = Date.now()): boolean {
    return !this.pods().some((p) => p.isAvailable(now));
  }

  /** Requests wait here now, or no pod could start even a one-token prompt. */
  isSaturated(now = Date.now()): boolean {
    if (this.queued() > 0) return true;
    return !this.pods().some((p) => refusal(p, 1, this.settings, now) === undefined);
  }

  /** Waits for a pod with headroom (or sheds). Resolves with the lease on the chosen pod. */
  async admit(ticket: Ticket, signal?: AbortSignal): Promise<Lease> {
    if (signal?.aborted) throw new AdmissionAborted('aborted before admission');
    const now = Date.now();
    if (this.isDown(now)) {
      this.observer.shed?.(this.name, ticket.cls, 'no_pod');
      throw this.noPod();
    }
    if (this.queued() === 0) {
      const lease = this.place(ticket, NO_PODS, 0, 0);
      if (lease) return lease;
    }
    if (this.queued() >= this.settings.maxQueuedPerPool) {
      this.observer.shed?.(this.name, ticket.cls, 'queue_full');
      throw this.overloaded(`${this.queued()} requests are already waiting`);
    }
    if (this.queues.get(ticket.cls)!.sizeOf(ticket.flow) >= this.settings.maxQueuedPerOrg) {
      this.observer.shed?.(this.name, ticket.cls, 'org_queue_full');
      throw new ApiError(
        ErrorCode.RateLimitExceeded,
        `Too many of your organization's requests are waiting for this model (${this.settings.maxQueuedPerOrg}). Please retry after a short wait.`,
        null,
        { 'retry-after': String(this.retryAfterSeconds()) },
      );
    }
    return this.enqueue(ticket, NO_PODS, 0, signal, false);
  }

  /** @internal Lease.retry: ahead of the queue, on a pod not tried yet. */
  readmit(ticket: Ticket, exclude: ReadonlySet<Pod>, attempt: number, signal?: AbortSignal): Promise<Lease> {
    if (signal?.aborted) return Promise.reject(new AdmissionAborted('aborted before re-admission'));
    if (!this.hasUntried(exclude, Date.now())) return Promise.reject(new NoRetryTarget(`every pod of ${this.name} in rotation was tried`));
    if (this.retries.length === 0) {
      const lease = this.place(ticket, exclude, attempt, 0);
      if (lease) return Promise.resolve(lease);
    }
    return this.enqueue(ticket, exclude, attempt, signal, true);
  }

  /**
   * Sizes the affinity table to the pool's KV caches: twice the pods' scraped capacity, in prefix blocks
   * of the observed characters per token, at most the configured bound. Twice, because forgetting a
   * prefix a pod still holds costs a recomputation (and the capacity it uses), while remembering one it
   * evicted only costs an optimistic estimate. Called on every fleet tick.
   */
  refresh(): void {
    let capacityTokens = 0;
    for (const pod of this.pods()) capacityTokens += pod.runtime?.kvCapacityTokens ?? 0;
    if (capacityTokens === 0) return;
    const tokensPerBlock = Math.max(1, this.settings.prefixBlockChars / this.charsPerToken);
    this.affinity.resize(Math.min(this.settings.affinityEntries, Math.max(1_000, (2 * capacityTokens) / tokensPerBlock)));
  }

  /** Starts waiting requests, head first, while pods accept them. */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.pumpOnce();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  /** @internal */
  onReleased(): void {
    this.pump();
  }

  /** @internal the runtime's prefix-cache hit for a request the table matched `matchedTokens` of. */
  observeCacheHit(matchedTokens: number, cachedTokens: number): void {
    if (matchedTokens <= 0) return;
    const keep = Math.exp(-matchedTokens / HIT_MEMORY_TOKENS);
    this.hitTokens = this.hitTokens * keep + Math.min(cachedTokens, matchedTokens);
    this.claimedTokens = this.claimedTokens * keep + matchedTokens;
  }

  /** @internal a stream's time to first token, to estimate when non-streamed prefills end. */
  observeTtft(ms: number, uncachedTokens: number): void {
    this.msPerToken += 0.1 * (ms / (uncachedTokens + TTFT_FIXED_TOKENS) - this.msPerToken);
  }

  /** Rejects every waiting request (shutdown). */
  rejectAll(err: Error): void {
    for (const w of this.retries.splice(0)) this.finish(w, undefined, err);
    for (const q of this.queues.values()) {
      for (let w = q.pop(); w; w = q.pop()) this.finish(w, undefined, err);
    }
  }

  private pumpOnce(): void {
    for (;;) {
      const w = this.head();
      if (!w) return;
      const lease = this.place(w.ticket, w.exclude, w.attempt, performance.now() - w.enqueuedAt);
      if (!lease) {
        // A retry whose untried pods all left rotation will never be placed: fail it now.
        if (w.exclude.size > 0 && !this.hasUntried(w.exclude, Date.now())) {
          this.removeHead(w);
          this.finish(w, undefined, new NoRetryTarget(`every pod of ${this.name} in rotation was tried`));
          continue;
        }
        return;
      }
      this.removeHead(w);
      this.finish(w, lease);
    }
  }

  private head(): Waiter | undefined {
    if (this.retries[0]) return this.retries[0];
    for (const cls of PRIORITY_CLASSES) {
      const w = this.queues.get(cls)!.peek();
      if (w) return w;
    }
    return undefined;
  }

  private removeHead(w: Waiter): void {
    if (this.retries[0] === w) this.retries.shift();
    else this.queues.get(w.ticket.cls)!.pop();
  }

  private enqueue(ticket: Ticket, exclude: ReadonlySet<Pod>, attempt: number, signal: AbortSignal | undefined, retry: boolean): Promise<Lease> {
    return new Promise<Lease>((resolve, reject) => {
      const w: Waiter = {
        flow: ticket.flow,
        weight: ticket.weight,
        cost: ticket.cost,
        ticket,
        exclude,
        attempt,
        enqueuedAt: performance.now(),
        resolve,
        reject,
        cancelled: false,
      };
      if (retry) this.retries.push(w);
      else w.entry = this.queues.get(ticket.cls)!.push(w);
      const timeout = this.settings.queueTimeoutMs[ticket.cls];
      if (timeout > 0) {
        w.timer = setTimeout(() => {
          this.cancel(w);
          this.observer.shed?.(this.name, ticket.cls, 'deadline');
          this.finish(w, undefined, this.overloaded(`the request waited ${Math.round(timeout / 1000)} s for capacity`));
        }, timeout);
      }
      if (signal) {
        w.signal = signal;
        w.onAbort = () => {
          this.cancel(w);
          this.finish(w, undefined, new AdmissionAborted('the client went away while queued'));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.pump();
    });
  }

  private cancel(w: Waiter): void {
    if (w.cancelled) return;
    w.cancelled = true;
    if (w.entry) this.queues.get(w.ticket.cls)!.cancel(w.entry);
    else {
      const at = this.retries.indexOf(w);
      if (at !== -1) this.retries.splice(at, 1);
    }
  }

  private finish(w: Waiter, lease: Lease | undefined, err?: Error): void {
    w.cancelled = true;
    clearTimeout(w.timer);
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    if (lease) w.resolve(lease);
    else w.reject(err!);
  }

  private hasUntried(exclude: ReadonlySet<Pod>, now: number): boolean {
    return this.pods().some((p) => p.isAvailable(now) && !exclude.has(p));
  }

  /**
   * Chooses a pod for the ticket among those whose budget admits it (policy decides), and takes the
   * slot. Undefined when no pod admits it now.
   */
  private place(ticket: Ticket, exclude: ReadonlySet<Pod>, attempt: number, waitedMs: number): Lease | undefined {
    const now = Date.now();
    const pods = this.pods();
    const matches = ticket.prefix.hashes.length > 0 ? this.affinity.match(ticket.prefix.hashes) : [];
    const candidates: Candidate[] = [];
    const hitRatio = this.hitRatio;
    let podCount = 0;
    let totalInFlight = 0;
    for (let i = 0; i < pods.length; i++) {
      const pod = pods[i];
      if (!pod.isAvailable(now)) continue;
      const inFlight = pod.inFlight + pod.foreignLoad(now, this.settings.staleAfterMs);
      podCount++;
      totalInFlight += inFlight;
      if (exclude.has(pod)) continue;
      let blocks = 0;
      for (const m of matches) if (m.pod === pod) blocks = m.blocks;
      const matchedTokens = blocksToTokens(ticket.prefix, blocks, ticket.promptTokens);
      const uncachedTokens = Math.max(1, ticket.promptTokens - matchedTokens);
      const budgetTokens = Math.max(1, ticket.promptTokens - Math.round(matchedTokens * hitRatio));
      if (refusal(pod, budgetTokens, this.settings, now) !== undefined) continue;
      candidates.push({ pod, index: i, matchedTokens, uncachedTokens, budgetTokens, load: loadScore(pod, now, this.settings.staleAfterMs), inFlight });
    }
    const chosen = this.policy.choose(candidates, { podCount, totalInFlight });
    if (!chosen) return undefined;

    const { pod } = chosen;
    if (ticket.prefix.totalChars > 0 && ticket.promptTokens > 0) this.charsPerToken += 0.01 * (ticket.prefix.totalChars / ticket.promptTokens - this.charsPerToken);
    pod.inFlight++;
    pod.prefilling++;
    pod.prefillTokens += chosen.budgetTokens;
    if (ticket.prefix.hashes.length > 0) this.affinity.record(ticket.prefix.hashes, pod);
    const lease = new Lease(this, pod, ticket, chosen.budgetTokens, chosen.matchedTokens, attempt, exclude, waitedMs);
    if (ticket.prefillEnd === 'estimate') {
      lease.estimatePrefill(Math.min(10_000, Math.max(5, this.msPerToken * (chosen.budgetTokens + TTFT_FIXED_TOKENS))));
    }
    this.countAdmission();
    this.observer.admitted?.(this.name, ticket.cls, waitedMs);
    this.observer.placed?.(this.name, chosen.matchedTokens, ticket.promptTokens);
    return lease;
  }

  private countAdmission(): void {
    const now = performance.now();
    const dt = (now - this.lastAdmitAt) / 1000;
    this.lastAdmitAt = now;
    this.admitRate = this.admitRate * Math.exp(-dt / RATE_TAU_S) + 1 / RATE_TAU_S;
  }

  /** Seconds until the queue ahead would drain at the recent admission rate, 1–60. */
  retryAfterSeconds(): number {
    const dt = (performance.now() - this.lastAdmitAt) / 1000;
    const rate = this.admitRate * Math.exp(-dt / RATE_TAU_S);
    const seconds = rate > 0.01 ? (this.queued() + 1) / rate : 60;
    return Math.min(60, Math.max(1, Math.ceil(seconds)));
  }

  private overloaded(why: string): ApiError {
    return new ApiError(ErrorCode.ModelOverloaded, `The model is overloaded (${why}). Please retry after a short wait.`, null, {
      'retry-after': String(this.retryAfterSeconds()),
    });
  }

  private noPod(): ApiError {
    const now = Date.now();
    const pods = this.pods();
    const nextTrialMs = pods.length ? Math.min(...pods.map((p) => p.breaker.msUntilTrial(now))) : 1_000;
    return new ApiError(ErrorCode.NoPodAvailable, 'No inference server is available for this model. Please retry shortly.', null, {
      'retry-after': String(Math.min(60, Math.max(1, Math.ceil(nextTrialMs / 1000)))),
    });
  }
}
