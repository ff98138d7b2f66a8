/**
 * Pod choice for one pool: among the pods in rotation whose admission budget (admission.ts) takes the
 * ticket now, the routing policy (pod-scorer.ts) picks one. Each candidate carries the prefix match the
 * affinity table (prefix-affinity.ts) credits it with: raw for scoring, discounted by the pool's
 * confirmed hit ratio for the budget (estimates.ts says why).
 *
 * The affinity table is sized here too, to what the pods' KV caches can hold.
 */
import type { Clock } from '../../clock/index.js';
import type { Pod } from '../../fleet/index.js';
import { refusal, type AdmissionLimits } from '../admission.js';
import type { PoolEstimates } from '../estimates.js';
import type { Ticket } from '../ticket.js';
import { loadScore, type Candidate, type RoutingPolicy } from './pod-scorer.js';
import { PrefixAffinity } from './prefix-affinity.js';
import { blocksToTokens } from './prefix-hash.js';

export interface PlacementSettings extends AdmissionLimits {
  /** Upper bound of the affinity table (it is sized down to the pods' KV capacity). */
  affinityEntries: number;
  prefixBlockChars: number;
}

const NO_PODS: ReadonlySet<Pod> = new Set();

export class Placement {
  readonly affinity: PrefixAffinity;

  constructor(
    private readonly pods: () => readonly Pod[],
    private readonly policy: RoutingPolicy,
    private readonly settings: PlacementSettings,
    private readonly estimates: PoolEstimates,
    private readonly clock: Clock,
  ) {
    this.affinity = new PrefixAffinity(settings.affinityEntries);
  }

  get policyName(): string {
    return this.policy.name;
  }

  /** Some pod outside `exclude` is in rotation. */
  inRotation(exclude: ReadonlySet<Pod> = NO_PODS): boolean {
    const now = this.clock.wallNow();
    return this.pods().some((p) => p.isAvailable(now) && !exclude.has(p));
  }

  /** Some pod could start a prompt whose prefill its budget counts as `budgetTokens`, now. */
  admitsAny(budgetTokens: number): boolean {
    const now = this.clock.wallNow();
    const monotonicNow = this.clock.now();
    return this.pods().some((p) => refusal(p, budgetTokens, this.settings, now, monotonicNow) === undefined);
  }

  /** The pod for `ticket` among those outside `exclude` whose budget admits it now; undefined when none does. */
  choose(ticket: Ticket, exclude: ReadonlySet<Pod>): Candidate | undefined {
    const now = this.clock.wallNow();
    const monotonicNow = this.clock.now();
    const pods = this.pods();
    const matches = ticket.prefix.hashes.length > 0 ? this.affinity.match(ticket.prefix.hashes) : [];
    const candidates: Candidate[] = [];
    const hitRatio = this.estimates.hitRatio;
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
      if (refusal(pod, budgetTokens, this.settings, now, monotonicNow) !== undefined) continue;
      candidates.push({ pod, index: i, matchedTokens, uncachedTokens, budgetTokens, load: loadScore(pod, now, this.settings.staleAfterMs), inFlight });
    }
    return this.policy.choose(candidates, { podCount, totalInFlight });
  }

  /** `ticket`'s prompt was sent to `pod`: its prefix is now probably cached there. */
  record(ticket: Ticket, pod: Pod): void {
    if (ticket.prefix.hashes.length > 0) this.affinity.record(ticket.prefix.hashes, pod);
  }

  /**
   * Sizes the affinity table to the pool's KV caches: twice the pods' scraped capacity, in prefix blocks
   * of the observed characters per token, at most the configured bound. Twice, because forgetting a
   * prefix a pod still holds costs a recomputation (and the capacity it uses), while remembering one it
   * evicted only costs an optimistic estimate.
   */
  refresh(): void {
    let capacityTokens = 0;
    for (const pod of this.pods()) capacityTokens += pod.runtime?.kvCapacityTokens ?? 0;
    if (capacityTokens === 0) return;
    const tokensPerBlock = Math.max(1, this.settings.prefixBlockChars / this.estimates.charsPerToken);
    this.affinity.resize(Math.min(this.settings.affinityEntries, Math.max(1_000, (2 * capacityTokens) / tokensPerBlock)));
  }
}
