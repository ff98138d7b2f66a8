/**
 * Admission for one pool: a request either starts now on a pod with headroom, or waits in the gateway
 * in priority-class then fair-share order until one has headroom, or is shed.
 *
 * Whenever capacity may have appeared (a request finished or got its first token, a scrape, a pod came
 * back) `pump()` starts as many waiting requests, head first, as pods accept. The head is never skipped
 * (a large prompt cannot be starved by small ones behind it).
 *
 * Shedding, always with retry-after (queue length ÷ recent admission rate, 1–60 s):
 *   - no pod of the pool in rotation            → 503 no_pod_available (retry-after: next half-open)
 *   - pool queue full                           → 503 model_overloaded
 *   - the organization's share of the queue full → 429 rate_limit_exceeded
 *   - waited longer than the class's timeout    → 503 model_overloaded
 * A client that disconnects leaves the queue at once (its AbortSignal).
 *
 * The parts: wait-queue.ts (order, bounds, deadlines), placement/ (which pod), lease.ts (a request's
 * hold on a pod), estimates.ts (what the pool learns from its traffic). All time comes from the clock.
 */
import type { Clock } from '../clock/index.js';
import type { PriorityClass } from '../config/index.js';
import type { ApiError } from '../errors/index.js';
import type { Pod } from '../fleet/index.js';
import { PoolEstimates } from './estimates.js';
import { Lease, type LeaseOwner } from './lease.js';
import type { RoutingPolicy } from './placement/pod-scorer.js';
import { Placement, type PlacementSettings } from './placement/placement.js';
import type { PrefixAffinity } from './placement/prefix-affinity.js';
import { AdmissionAborted, NoRetryTarget, coldStartTimeout, modelOverloaded, noPodAvailable, orgQueueFull, type ShedReason } from './scheduler.errors.js';
import type { Ticket } from './ticket.js';
import { WaitQueue, type WaitQueueSettings } from './wait-queue.js';

export interface PoolSchedulerSettings extends PlacementSettings, WaitQueueSettings {
  /**
   * The waiting room (an autoscaled pool): while the pool has no Ready pod at all it is cold, not down —
   * requests wait in its queue under their class's deadline for the autoscaler's first pod, instead of
   * 503 no_pod_available. `coldStartRetryAfterS`: the retry-after of those that wait past the deadline.
   */
  waitingRoom?: { coldStartRetryAfterS: number };
}

/** Metrics hooks (scheduler.metrics.ts implements them; tests pass nothing). */
export interface SchedulerObserver {
  admitted?(pool: string, cls: PriorityClass, waitedMs: number): void;
  shed?(pool: string, cls: PriorityClass, reason: ShedReason): void;
  placed?(pool: string, matchedTokens: number, promptTokens: number): void;
  /** A request started waiting for a cold pool (the autoscaler reacts at once). */
  coldWait?(pool: string): void;
}

const NO_PODS: ReadonlySet<Pod> = new Set();

/** TTFT samples kept between two reads of takeTtftP90 (enough for a p90 over one autoscaler interval). */
const TTFT_SAMPLES_MAX = 4_096;

export class PoolScheduler implements LeaseOwner {
  private ttftSamples: number[] = [];
  private readonly estimates: PoolEstimates;
  private readonly placement: Placement;
  private readonly queue: WaitQueue<Lease>;
  private pumping = false;
  private pumpAgain = false;

  constructor(
    readonly name: string,
    private readonly pods: () => readonly Pod[],
    policy: RoutingPolicy,
    private readonly settings: PoolSchedulerSettings,
    private readonly clock: Clock,
    private readonly observer: SchedulerObserver = {},
  ) {
    this.estimates = new PoolEstimates(clock);
    this.placement = new Placement(pods, policy, settings, this.estimates, clock);
    this.queue = new WaitQueue<Lease>(clock, settings, (ticket) => this.shed(ticket, 'deadline'));
  }

  get policyName(): string {
    return this.placement.policyName;
  }

  get affinity(): PrefixAffinity {
    return this.placement.affinity;
  }

  /** Share of the affinity table's matches the runtimes' prefix caches actually hit, recently (0–1). */
  get hitRatio(): number {
    return this.estimates.hitRatio;
  }

  /** Requests waiting: of one class, or all (retries included). */
  queued(cls?: PriorityClass): number {
    return this.queue.size(cls);
  }

  /** No pod of the pool is in rotation (and it is not a cold pool with a waiting room). */
  isDown(): boolean {
    return !this.placement.inRotation() && !this.isCold();
  }

  /** A pool with a waiting room and no Ready pod (scaled to zero, or its first pods still starting). */
  isCold(): boolean {
    return this.settings.waitingRoom !== undefined && !this.pods().some((p) => p.state === 'ready');
  }

  /** Requests wait here now, or no pod could start even a one-token prompt. */
  isSaturated(): boolean {
    return this.queue.size() > 0 || !this.placement.admitsAny(1);
  }

  /** Waits for a pod with headroom (or sheds). Resolves with the lease on the chosen pod. */
  async admit(ticket: Ticket, signal?: AbortSignal): Promise<Lease> {
    if (signal?.aborted) throw new AdmissionAborted('aborted before admission');
    if (this.isDown()) throw this.shed(ticket, 'no_pod');
    if (this.queue.size() === 0) {
      const lease = this.place(ticket, NO_PODS, 0, 0);
      if (lease) return lease;
    }
    const full = this.queue.refusal(ticket);
    if (full) throw this.shed(ticket, full);
    const waiting = this.enqueue(ticket, NO_PODS, 0, signal, false);
    if (this.isCold()) this.observer.coldWait?.(this.name);
    return waiting;
  }

  /** @internal Lease.retry: ahead of the queue, on a pod not tried yet. */
  readmit(ticket: Ticket, exclude: ReadonlySet<Pod>, attempt: number, signal?: AbortSignal): Promise<Lease> {
    if (signal?.aborted) return Promise.reject(new AdmissionAborted('aborted before re-admission'));
    if (!this.placement.inRotation(exclude)) return Promise.reject(this.noRetryTarget());
    if (this.queue.retries() === 0) {
      const lease = this.place(ticket, exclude, attempt, 0);
      if (lease) return Promise.resolve(lease);
    }
    return this.enqueue(ticket, exclude, attempt, signal, true);
  }

  /** Fleet tick: sizes the affinity table to the pods' KV caches. */
  refresh(): void {
    this.placement.refresh();
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

  /** @internal the runtime's prefix-cache hit for a request the table matched `matchedTokens` of. */
  observeCacheHit(matchedTokens: number, cachedTokens: number): void {
    this.estimates.observeCacheHit(matchedTokens, cachedTokens);
  }

  /** @internal a stream's time to first token, to estimate when non-streamed prefills end. */
  observeTtft(ms: number, uncachedTokens: number): void {
    this.estimates.observeTtft(ms, uncachedTokens);
    if (this.ttftSamples.length < TTFT_SAMPLES_MAX) this.ttftSamples.push(ms);
  }

  /**
   * p90 of the pod-side TTFT (lease granted → first byte) of the streams since the last call, and
   * forgets them; null without samples. The autoscaler reads it once per interval.
   */
  takeTtftP90(): number | null {
    const samples = this.ttftSamples.sort((a, b) => a - b);
    this.ttftSamples = [];
    return samples.length === 0 ? null : samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.9))]!;
  }

  /** Rejects every waiting request (shutdown). */
  rejectAll(err: Error): void {
    this.queue.rejectAll(err);
  }

  /** Seconds until the queue ahead would drain at the recent admission rate, 1–60. */
  retryAfterSeconds(): number {
    return this.estimates.retryAfterSeconds(this.queue.size());
  }

  private pumpOnce(): void {
    for (let w = this.queue.head(); w; w = this.queue.head()) {
      const lease = this.place(w.ticket, w.exclude, w.attempt, this.clock.now() - w.enqueuedAt);
      if (lease) {
        this.queue.grant(w, lease);
        continue;
      }
      // A retry whose untried pods all left rotation will never be placed: fail it now.
      if (w.exclude.size > 0 && !this.placement.inRotation(w.exclude)) {
        this.queue.failHead(w, this.noRetryTarget());
        continue;
      }
      return;
    }
  }

  private enqueue(ticket: Ticket, exclude: ReadonlySet<Pod>, attempt: number, signal: AbortSignal | undefined, retry: boolean): Promise<Lease> {
    const waiting = this.queue.add(ticket, exclude, attempt, signal, retry);
    this.pump();
    return waiting;
  }

  /** Takes a slot on the pod placement chooses for the ticket; undefined when no pod admits it now. */
  private place(ticket: Ticket, exclude: ReadonlySet<Pod>, attempt: number, waitedMs: number): Lease | undefined {
    const chosen = this.placement.choose(ticket, exclude);
    if (!chosen) return undefined;
    this.estimates.observePrompt(ticket.prefix, ticket.promptTokens);
    this.placement.record(ticket, chosen.pod);
    const lease = new Lease(this, this.clock, {
      pod: chosen.pod,
      ticket,
      uncachedTokens: chosen.budgetTokens,
      matchedTokens: chosen.matchedTokens,
      attempt,
      tried: exclude,
      waitedMs,
    });
    if (ticket.prefillEnd === 'estimate') lease.estimatePrefill(this.estimates.prefillMs(chosen.budgetTokens));
    this.estimates.observeAdmission();
    this.observer.admitted?.(this.name, ticket.cls, waitedMs);
    this.observer.placed?.(this.name, chosen.matchedTokens, ticket.promptTokens);
    return lease;
  }

  private shed(ticket: Ticket, reason: ShedReason): ApiError {
    this.observer.shed?.(this.name, ticket.cls, reason);
    switch (reason) {
      case 'no_pod':
        return noPodAvailable(this.pods(), this.clock.wallNow());
      case 'queue_full':
        return modelOverloaded(`${this.queue.size()} requests are already waiting`, this.retryAfterSeconds());
      case 'org_queue_full':
        return orgQueueFull(this.settings.maxQueuedPerOrg, this.retryAfterSeconds());
      case 'deadline':
        if (this.isCold()) return coldStartTimeout(this.settings.queueTimeoutMs[ticket.cls], this.settings.waitingRoom!.coldStartRetryAfterS);
        return modelOverloaded(`the request waited ${Math.round(this.settings.queueTimeoutMs[ticket.cls] / 1000)} s for capacity`, this.retryAfterSeconds());
    }
  }

  private noRetryTarget(): NoRetryTarget {
    return new NoRetryTarget(`every pod of ${this.name} in rotation was tried`);
  }
}
