/**
 * What a tier means. The scheduler reads `priority` (higher is served first under contention) and the
 * quota stage the default limits; until those stages land, the admin API reports these defaults.
 */
import type { Tier } from '../auth/principal.js';

export interface TierPolicy {
  priority: number;
  requestsPerMinute: number;
  tokensPerMinute: number;
  maxConcurrentRequests: number;
}

export const TIER_POLICIES: Readonly<Record<Tier, TierPolicy>> = {
  free: { priority: 0, requestsPerMinute: 60, tokensPerMinute: 40_000, maxConcurrentRequests: 4 },
  standard: { priority: 1, requestsPerMinute: 600, tokensPerMinute: 400_000, maxConcurrentRequests: 32 },
  premium: { priority: 2, requestsPerMinute: 3_000, tokensPerMinute: 2_000_000, maxConcurrentRequests: 128 },
  enterprise: { priority: 3, requestsPerMinute: 10_000, tokensPerMinute: 10_000_000, maxConcurrentRequests: 512 },
};
