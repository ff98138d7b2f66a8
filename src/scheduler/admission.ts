/**
 * A pod's admission budget: whether it may start one more request now. Requests beyond what the pool
 * can start wait in the gateway (where priority and fair share order them), not in the runtime's FCFS
 * queue (where they would not be). A pod takes a request only if all of these hold:
 *
 * 1. it is in rotation; a half-open pod takes a single trial request at a time;
 * 2. concurrency: our in-flight + the runtime's requests that are not ours < maxInFlightPerPod;
 * 3. runtime pressure: if the last scrape showed the runtime queueing more requests than we had
 *    prefilling there (waiting > ours: it cannot start them; preempted sequences land here too) or its
 *    KV cache at the high watermark of live sequences, the pod keeps its current count: it gets a new
 *    request only after one of ours there finished (in-flight below its value at the scrape), until a
 *    scrape shows the pressure gone;
 * 4. prefill stall: the oldest of our requests still before its first token on the pod was sent less
 *    than prefillStallMs ago (streams and embeddings: the prefills whose end we observe; on the
 *    scheduler's monotonic clock). The runtime works through prefills in arrival order, so a new
 *    request would wait behind that one anyway; and when it is late, the pod has more work than our
 *    estimate (below) says — prefixes it evicted and must recompute, other clients, long steps. This
 *    rule needs no estimate.
 * 5. prefill budget: the prompt tokens our requests still have to prefill on the pod (estimated: prompt
 *    minus the expected prefix-cache hit), plus this request's, stay within prefillBudgetTokens — unless
 *    nothing is prefilling there, so any single prompt fits.
 * Rules 4 and 5 keep time to first token low under load: a new request never sits behind a deep pile
 * of prefills on the GPU, where FCFS order rules, and a light tenant's request waits in the gateway
 * (served first by fair share) for the current work to clear, not for a flooding tenant's backlog.
 */
import type { Pod } from '../fleet/index.js';

export interface AdmissionLimits {
  maxInFlightPerPod: number;
  prefillBudgetTokens: number;
  prefillStallMs: number;
  kvHighWatermark: number;
  /** Scrapes older than this are ignored (our own counts decide alone). */
  staleAfterMs: number;
}

export type Refusal = 'unavailable' | 'trial' | 'concurrency' | 'runtime-queue' | 'kv-cache' | 'prefill-stall' | 'prefill';

/**
 * Why `pod` cannot start a request whose prefill its budget counts as `budgetTokens` now; undefined when
 * it can. `now` is wall-clock time (breakers, scrapes), `monotonicNow` the scheduler clock's monotonic
 * reading (the grant times of pending prefills).
 */
export function refusal(pod: Pod, budgetTokens: number, limits: AdmissionLimits, now: number, monotonicNow: number): Refusal | undefined {
  if (!pod.isAvailable(now)) return 'unavailable';
  if (pod.breaker.state(now) === 'half-open' && pod.inFlight > 0) return 'trial';
  if (pod.inFlight + pod.foreignLoad(now, limits.staleAfterMs) >= limits.maxInFlightPerPod) return 'concurrency';
  const rt = pod.freshRuntime(now, limits.staleAfterMs);
  if (rt && pod.inFlight >= pod.inFlightAtScrape) {
    if (rt.waiting > pod.prefillingAtScrape) return 'runtime-queue';
    if (rt.kvUsage >= limits.kvHighWatermark) return 'kv-cache';
  }
  const oldest = pod.oldestPrefillAt();
  if (oldest !== undefined && limits.prefillStallMs > 0 && monotonicNow - oldest > limits.prefillStallMs) return 'prefill-stall';
  if (pod.prefilling > 0 && pod.prefillTokens + budgetTokens > limits.prefillBudgetTokens) return 'prefill';
  return undefined;
}
