/**
 * Pod choice among the pods that can take a request now (the scheduler has already applied each pod's
 * admission budget). Three pluggable policies:
 *
 * - `round-robin`: the next pod in pool order after the last one chosen.
 * - `least-load`: the lowest load score (below).
 * - `prefix-load`: the lowest estimated time to first token, in prompt-token units:
 *       load score + the prompt tokens this pod would have to compute (prompt − expected prefix hit)
 *   so a pod holding the request's prefix wins unless it is busier by more than the prefill it saves.
 *   Bounded load (Mirrokni et al., "Consistent hashing with bounded loads"): pods already above
 *   `boundedLoadFactor` × the pool's mean in-flight are skipped while any pod is below it, so one hot
 *   prefix cannot pile every request onto one pod.
 *
 * Load score, also in prompt-token units (work ahead of a new prefill on this pod):
 *   prefill tokens of our requests still before their first token
 *   + DECODE_TOKENS × requests decoding (ours past their first token, plus other replicas' from the scrape)
 *   + WAITING_TOKENS × requests the runtime queues beyond our pending prefills
 *   + a KV-cache penalty above KV_SOFT usage (preemption risk)
 * The weights are deliberately round numbers: a decoding sequence costs the step about as much as
 * a few prompt tokens (SIM_CALIBRATION §1: c_kv·context vs k_pf per token) but also slows every other
 * stream on the pod, so it is weighted up to keep inter-token latency even across pods.
 */
import type { RoutingPolicyName } from '../../config/index.js';
import type { Pod } from '../../fleet/index.js';

const DECODE_TOKENS = 32;
const WAITING_TOKENS = 512;
const KV_SOFT = 0.8;
const KV_PENALTY_TOKENS = 40_000; // at 100 % usage: +8k tokens
/**
 * Prompt tokens a pod would have to compute count this many times more than tokens already queued
 * there: recomputing a prefix another pod holds delays this request about as much as waiting would,
 * but also spends GPU time every later request waits for.
 */
const PREFILL_WEIGHT = 3;

export interface Candidate {
  pod: Pod;
  /** Position of the pod in its pool (round-robin order). */
  index: number;
  /** Prompt tokens this pod is expected to find in its prefix cache. */
  matchedTokens: number;
  /** Prompt tokens it would have to compute if the table is right (what prefix-load scores). */
  uncachedTokens: number;
  /**
   * Prompt tokens its prefill budget counts for this request: the match discounted by the share of
   * matches the runtimes recently confirmed. Not used for scoring: the discount is pool-wide, so it says
   * nothing about which pod evicted, and scoring with it would only weaken affinity everywhere.
   */
  budgetTokens: number;
  /** loadScore() of the pod. */
  load: number;
  /** Requests on the pod (ours + foreign). */
  inFlight: number;
}

export interface PoolContext {
  /** Pods in rotation (including ones without headroom now). */
  podCount: number;
  /** Requests in flight on those pods (ours + foreign). */
  totalInFlight: number;
}

export interface RoutingPolicy {
  readonly name: RoutingPolicyName;
  choose(candidates: readonly Candidate[], pool: PoolContext): Candidate | undefined;
}

export function loadScore(pod: Pod, now: number, staleAfterMs: number): number {
  const decoding = Math.max(0, pod.inFlight - pod.prefilling) + pod.foreignLoad(now, staleAfterMs);
  let score = pod.prefillTokens + DECODE_TOKENS * decoding;
  const rt = pod.freshRuntime(now, staleAfterMs);
  if (rt) {
    score += WAITING_TOKENS * Math.max(0, rt.waiting - pod.prefillingAtScrape);
    if (rt.kvUsage > KV_SOFT) score += (rt.kvUsage - KV_SOFT) * KV_PENALTY_TOKENS;
  }
  return score;
}

/** Rotating tie-break: among equals, the first at or after the cursor in pool order. */
class Cursor {
  private last = -1;

  distance(index: number, podCount: number): number {
    const n = Math.max(podCount, index + 1);
    return (index - this.last - 1 + n) % n;
  }

  advance(index: number): void {
    this.last = index;
  }
}

class RoundRobin implements RoutingPolicy {
  readonly name = 'round-robin' as const;
  private readonly cursor = new Cursor();

  choose(candidates: readonly Candidate[], pool: PoolContext): Candidate | undefined {
    let best: Candidate | undefined;
    for (const c of candidates) {
      if (!best || this.cursor.distance(c.index, pool.podCount) < this.cursor.distance(best.index, pool.podCount)) best = c;
    }
    if (best) this.cursor.advance(best.index);
    return best;
  }
}

/** Lowest `score`, ties broken by the rotating cursor (so an idle pool spreads requests). */
function lowest(candidates: readonly Candidate[], pool: PoolContext, cursor: Cursor, score: (c: Candidate) => number): Candidate | undefined {
  let best: Candidate | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const s = score(c);
    if (s < bestScore || (s === bestScore && best && cursor.distance(c.index, pool.podCount) < cursor.distance(best.index, pool.podCount))) {
      best = c;
      bestScore = s;
    }
  }
  if (best) cursor.advance(best.index);
  return best;
}

class LeastLoad implements RoutingPolicy {
  readonly name = 'least-load' as const;
  private readonly cursor = new Cursor();

  choose(candidates: readonly Candidate[], pool: PoolContext): Candidate | undefined {
    return lowest(candidates, pool, this.cursor, (c) => c.load);
  }
}

class PrefixLoad implements RoutingPolicy {
  readonly name = 'prefix-load' as const;
  private readonly cursor = new Cursor();

  constructor(private readonly boundedLoadFactor: number) {}

  choose(candidates: readonly Candidate[], pool: PoolContext): Candidate | undefined {
    const cap = Math.ceil((this.boundedLoadFactor * (pool.totalInFlight + 1)) / Math.max(1, pool.podCount));
    let eligible = candidates;
    if (candidates.some((c) => c.inFlight >= cap)) {
      const under = candidates.filter((c) => c.inFlight < cap);
      if (under.length > 0) eligible = under;
    }
    return lowest(eligible, pool, this.cursor, (c) => c.load + PREFILL_WEIGHT * c.uncachedTokens);
  }
}

export function createRoutingPolicy(name: RoutingPolicyName, boundedLoadFactor: number): RoutingPolicy {
  switch (name) {
    case 'round-robin':
      return new RoundRobin();
    case 'least-load':
      return new LeastLoad();
    case 'prefix-load':
      return new PrefixLoad(boundedLoadFactor);
  }
}
