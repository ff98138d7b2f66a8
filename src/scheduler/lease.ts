/**
 * A request's hold on a pod: from admission until the request is finished, one slot of the pod's
 * concurrency and, until its prefill ends, its uncached prompt tokens in the pod's prefill budget
 * (admission.ts). Creating a lease takes the slot; firstToken() ends the prefill, release() frees the
 * slot, retry() frees it and waits for another pod of the pool.
 *
 * A prefill ends at the stream's first byte (observed: the pool learns its time to first token from
 * it), at an estimated time for a non-streamed generation, or with the request (embeddings, or a
 * request cut before its first token). Only observed prefills count in the pod's pending prefills,
 * which the prefill-stall rule reads.
 */
import type { Clock, TimerHandle } from '../clock/index.js';
import type { Pod } from '../fleet/index.js';
import type { Ticket } from './ticket.js';

/** The pool scheduler, as its leases see it. */
export interface LeaseOwner {
  /** Capacity may have appeared on the pod: start waiting requests. */
  pump(): void;
  /** A stream's time to first token, from the grant. */
  observeTtft(ms: number, uncachedTokens: number): void;
  /** The runtime's prefix-cache hit for a request the affinity table matched `matchedTokens` of. */
  observeCacheHit(matchedTokens: number, cachedTokens: number): void;
  /** Admission ahead of every queued request, on a pod not in `exclude`. */
  readmit(ticket: Ticket, exclude: ReadonlySet<Pod>, attempt: number, signal?: AbortSignal): Promise<Lease>;
}

export interface LeaseGrant {
  readonly pod: Pod;
  readonly ticket: Ticket;
  /** Prompt tokens the pod is expected to compute (counted in its prefill budget). */
  readonly uncachedTokens: number;
  /** Prompt tokens the affinity table says the pod holds (before the learned hit ratio). */
  readonly matchedTokens: number;
  /** 0 for the first attempt. */
  readonly attempt: number;
  /** Pods tried before this one, for this request. */
  readonly tried: ReadonlySet<Pod>;
  readonly waitedMs: number;
}

export class Lease implements LeaseGrant {
  readonly pod: Pod;
  readonly ticket: Ticket;
  readonly uncachedTokens: number;
  readonly matchedTokens: number;
  readonly attempt: number;
  readonly tried: ReadonlySet<Pod>;
  readonly waitedMs: number;
  /** Monotonic time of the grant (the owner's clock). */
  readonly grantedAt: number;
  private released = false;
  private prefillDone = false;
  private prefillTimer?: TimerHandle;

  constructor(
    private readonly owner: LeaseOwner,
    private readonly clock: Clock,
    grant: LeaseGrant,
  ) {
    this.pod = grant.pod;
    this.ticket = grant.ticket;
    this.uncachedTokens = grant.uncachedTokens;
    this.matchedTokens = grant.matchedTokens;
    this.attempt = grant.attempt;
    this.tried = grant.tried;
    this.waitedMs = grant.waitedMs;
    this.grantedAt = clock.now();
    const { pod } = this;
    pod.inFlight++;
    pod.prefilling++;
    pod.prefillTokens += this.uncachedTokens;
    // Only prefills whose end we observe: a non-streamed generation's end is our own estimate, and a
    // stall judged from it would be made up.
    if (this.ticket.prefillEnd !== 'estimate') pod.prefillsSince.add(this);
  }

  /** The first output reached us: the pod's prefill for this request is over. Idempotent. */
  firstToken(): void {
    if (this.prefillDone || this.released) return;
    this.endPrefill(true);
    this.owner.pump();
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
    if (cachedTokens !== undefined) this.owner.observeCacheHit(this.matchedTokens, cachedTokens);
    this.owner.pump();
  }

  /**
   * Gives this pod up after a failure before the first byte and waits for another pod of the pool
   * (ahead of every queued request). Rejects with NoRetryTarget when every pod in rotation was tried.
   */
  retry(signal?: AbortSignal): Promise<Lease> {
    this.release();
    const tried = new Set(this.tried);
    tried.add(this.pod);
    return this.owner.readmit(this.ticket, tried, this.attempt + 1, signal);
  }

  /** @internal non-streamed generations: count the prefill done after an estimated time. */
  estimatePrefill(ms: number): void {
    this.prefillTimer = this.clock.setTimeout(() => this.firstToken(), ms, { unref: true });
  }

  private endPrefill(observed: boolean): void {
    this.prefillDone = true;
    this.clock.clearTimeout(this.prefillTimer);
    this.pod.prefilling--;
    this.pod.prefillTokens -= this.uncachedTokens;
    this.pod.prefillsSince.delete(this);
    if (observed && this.ticket.prefillEnd === 'first-byte') this.owner.observeTtft(this.clock.now() - this.grantedAt, this.uncachedTokens);
  }
}
