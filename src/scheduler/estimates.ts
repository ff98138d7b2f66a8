/**
 * What a pool's scheduler learns from its own traffic, each an exponentially weighted average:
 *
 * 1. time to first token per prompt token (streams' observed first bytes): how long a non-streamed
 *    generation's prefill is assumed to take, since its first token is not observable;
 * 2. admissions per second: how long the queue ahead takes to drain, the retry-after of every shed;
 * 3. the confirmed prefix-hit ratio: the share of the affinity table's matches the runtimes reported
 *    as prefix-cache hits (usage cached_tokens), i.e. how much of a match the prefill budget counts;
 * 4. prompt characters per token: turns prefix blocks (characters) into tokens of KV cache, to size
 *    the affinity table to the pods' caches.
 *
 * Time comes from the injected clock (monotonic). Starting values are priors, not measurements.
 */
import type { Clock } from '../clock/index.js';
import type { PrefixKey } from './placement/prefix-hash.js';

/** Fixed part of a time-to-first-token, in prompt-token equivalents (frontend, first step). */
const TTFT_FIXED_TOKENS = 256;
/** A non-streamed prefill is assumed to end within these bounds, whatever the estimate says. */
const PREFILL_ESTIMATE_MIN_MS = 5;
const PREFILL_ESTIMATE_MAX_MS = 10_000;
/** Time constant of the admission rate, in seconds. */
const RATE_TAU_S = 5;
/**
 * Memory of the hit ratio, in matched tokens: each observation decays the sums by
 * exp(-matched / HIT_MEMORY_TOKENS), so the ratio follows the last ~100 multi-thousand-token matches.
 */
const HIT_MEMORY_TOKENS = 256_000;
/** Prior of the hit ratio: believe the table fully, with the weight of this many matched tokens. */
const HIT_PRIOR_TOKENS = 8_192;

export class PoolEstimates {
  /** TTFT ms per prompt-token equivalent. */
  private msPerToken = 0.05;
  private admitRate = 0;
  private lastAdmitAt: number;
  /**
   * Decayed sums of the prefix-cache hits the runtimes reported (capped at the table's claim) and of
   * what the table claimed, for the requests where it claimed any: their ratio is how much of a match
   * to expect. The table is what we sent, not what the pods still hold; when they evict faster than it
   * forgets, counting its full claim would admit more real prefill than the budget allows, and the
   * excess would wait in the runtimes' FCFS queues where fair share cannot reorder it.
   */
  private hitTokens = HIT_PRIOR_TOKENS;
  private claimedTokens = HIT_PRIOR_TOKENS;
  private charsPerTokenAvg = 4;

  constructor(private readonly clock: Clock) {
    this.lastAdmitAt = clock.now();
  }

  /** A stream's first byte came `ms` after its grant, for a prefill of `uncachedTokens`. */
  observeTtft(ms: number, uncachedTokens: number): void {
    this.msPerToken += 0.1 * (ms / (uncachedTokens + TTFT_FIXED_TOKENS) - this.msPerToken);
  }

  /** How long a prefill of `tokens` is assumed to take when its end cannot be observed. */
  prefillMs(tokens: number): number {
    return Math.min(PREFILL_ESTIMATE_MAX_MS, Math.max(PREFILL_ESTIMATE_MIN_MS, this.msPerToken * (tokens + TTFT_FIXED_TOKENS)));
  }

  /** A request was admitted now. */
  observeAdmission(): void {
    const now = this.clock.now();
    const dt = (now - this.lastAdmitAt) / 1000;
    this.lastAdmitAt = now;
    this.admitRate = this.admitRate * Math.exp(-dt / RATE_TAU_S) + 1 / RATE_TAU_S;
  }

  /** Seconds until `queued` requests ahead would drain at the recent admission rate, 1–60. */
  retryAfterSeconds(queued: number): number {
    const dt = (this.clock.now() - this.lastAdmitAt) / 1000;
    const rate = this.admitRate * Math.exp(-dt / RATE_TAU_S);
    const seconds = rate > 0.01 ? (queued + 1) / rate : 60;
    return Math.min(60, Math.max(1, Math.ceil(seconds)));
  }

  /** The runtime's prefix-cache hit (`cachedTokens`) for a request the table matched `matchedTokens` of. */
  observeCacheHit(matchedTokens: number, cachedTokens: number): void {
    if (matchedTokens <= 0) return;
    const keep = Math.exp(-matchedTokens / HIT_MEMORY_TOKENS);
    this.hitTokens = this.hitTokens * keep + Math.min(cachedTokens, matchedTokens);
    this.claimedTokens = this.claimedTokens * keep + matchedTokens;
  }

  /** Share of the affinity table's matches the runtimes' prefix caches actually hit, recently (0–1). */
  get hitRatio(): number {
    return this.hitTokens / this.claimedTokens;
  }

  /** An admitted prompt: its characters (serialised as the prefix key saw them) per token. */
  observePrompt(prefix: PrefixKey, promptTokens: number): void {
    if (prefix.totalChars > 0 && promptTokens > 0) this.charsPerTokenAvg += 0.01 * (prefix.totalChars / promptTokens - this.charsPerTokenAvg);
  }

  get charsPerToken(): number {
    return this.charsPerTokenAvg;
  }
}
