/**
 * What a tier means to the scheduler: its `priority` (higher is served first under contention). The
 * default limits of each tier belong to the quota stage (src/quota/limits.ts, config `tiers`).
 */
import type { Tier } from './principal.js';

export interface TierPolicy {
  /** Higher is served first under contention; the fair-share weight is 2^priority. */
  priority: number;
}

/** Default limits per tier live with the quota stage (config `tiers`, src/quota/limits.ts). */
export const TIER_POLICIES: Readonly<Record<Tier, TierPolicy>> = {
  free: { priority: 0 },
  standard: { priority: 1 },
  premium: { priority: 2 },
  enterprise: { priority: 3 },
};
