/**
 * What a tier means to the scheduler: its `priority` (higher is served first under contention). The
 * default limits of each tier are configuration (src/config/tiers.ts, overridable in the file's `tiers`).
 */
import type { Tier } from '../config/index.js';

export interface TierPolicy {
  /** Higher is served first under contention; the fair-share weight is 2^priority. */
  priority: number;
}

/** Default limits per tier are configuration (src/config/tiers.ts, the file's `tiers`). */
export const TIER_POLICIES: Readonly<Record<Tier, TierPolicy>> = {
  free: { priority: 0 },
  standard: { priority: 1 },
  premium: { priority: 2 },
  enterprise: { priority: 3 },
};
