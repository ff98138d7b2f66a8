/**
 * Routing and scheduling settings (src/routing, src/scheduler, src/dispatch, src/fleet): the typed
 * object those stages read, built from the SWITCHYARD_ROUTING_*, _SCHED_*, _PREFIX_*, _FLEET_*,
 * _BREAKER_* settings declared in settings.ts.
 */
import type { Tier } from './tiers.js';

export const ROUTING_POLICIES = ['round-robin', 'least-load', 'prefix-load'] as const;
export type RoutingPolicyName = (typeof ROUTING_POLICIES)[number];

/** Whose requests may share prefix-cache blocks on a pod: one organization's, or everyone's. */
export const PREFIX_CACHE_SCOPES = ['organization', 'shared'] as const;
export type PrefixCacheScope = (typeof PREFIX_CACHE_SCOPES)[number];

/** Strict priority between classes, fair share between organizations inside one. */
export type PriorityClass = 'interactive' | 'flex' | 'batch';

export interface SchedulingConfig {
  /** How a pod is chosen among those with headroom. */
  policy: RoutingPolicyName;
  /** Admission budget of a pod (docs/architecture.md, "Admission"). */
  maxInFlightPerPod: number;
  prefillBudgetTokens: number;
  /** A pod whose oldest prefill of ours has waited this long for its first token takes nothing new. */
  prefillStallMs: number;
  /** KV-cache usage (0–1) above which a pod takes nothing new until one of our requests finishes. */
  kvHighWatermark: number;
  /** Requests waiting in the gateway per pool, and per organization within a pool. */
  maxQueuedPerPool: number;
  maxQueuedPerOrg: number;
  /** Longest wait in the queue before shedding (0 = no deadline). */
  queueTimeoutMs: Record<PriorityClass, number>;
  /** Attempts per pool before the first byte (the first try plus retries on other pods). */
  maxAttempts: number;
  /** Tiers sent down a model's fallback chain when its pool is saturated (others wait for it). */
  saturationFallbackTiers: Tier[];
  /**
   * Prefix affinity: prompt text hashed in blocks of `blockChars`, at most `maxBlocks` of them.
   * `cacheScope`: 'organization' gives every organization its own prefix cache on the runtimes
   * (a per-organization `cache_salt`); 'shared' lets every tenant hit every other's blocks.
   */
  prefix: { blockChars: number; maxBlocks: number; affinityEntriesPerPool: number; cacheScope: PrefixCacheScope };
  /** Bounded load: no pod gets more than this factor × the pool's mean in-flight (+1) for affinity. */
  boundedLoadFactor: number;
  fleet: {
    scrapeIntervalMs: number;
    probeTimeoutMs: number;
    breaker: { failuresToEject: number; probeFailuresToEject: number; ejectBaseMs: number; ejectMaxMs: number };
  };
  /** BullMQ workers per pool feeding deferred (batch) work into the scheduler; 0 = none on this replica. */
  deferredWorkersPerPool: number;
}
