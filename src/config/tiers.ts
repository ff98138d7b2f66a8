/**
 * Organization tiers and the limits each carries by default. The defaults are configuration: the
 * catalogue file's `tiers:` section overrides any field per tier (catalogue.ts), and the quota stage
 * applies policy rows on top (src/quota/limits.ts).
 */

export const TIERS = ['free', 'standard', 'premium', 'enterprise'] as const;
export type Tier = (typeof TIERS)[number];

export interface Limits {
  /** Requests per minute. null = no limit. */
  rpm: number | null;
  /** Tokens per minute, prompt + output. */
  tpm: number | null;
  /** Requests in flight at once. */
  concurrency: number | null;
  /** Hard spend budgets, in currency units (the catalogue's price unit). */
  dailySpend: number | null;
  monthlySpend: number | null;
  /** Soft budgets: crossing one alerts (metric, log, audit event) but refuses nothing. */
  softDailySpend: number | null;
  softMonthlySpend: number | null;
}

export type LimitField = keyof Limits;
export const LIMIT_FIELDS: readonly LimitField[] = ['rpm', 'tpm', 'concurrency', 'dailySpend', 'monthlySpend', 'softDailySpend', 'softMonthlySpend'];

export const DEFAULT_TIER_LIMITS: Record<Tier, Limits> = {
  free: { rpm: 20, tpm: 40_000, concurrency: 2, dailySpend: 1, monthlySpend: 10, softDailySpend: null, softMonthlySpend: 8 },
  standard: { rpm: 600, tpm: 1_000_000, concurrency: 32, dailySpend: 100, monthlySpend: 2_000, softDailySpend: 80, softMonthlySpend: 1_600 },
  premium: { rpm: 3_000, tpm: 5_000_000, concurrency: 128, dailySpend: 1_000, monthlySpend: 20_000, softDailySpend: 800, softMonthlySpend: 16_000 },
  enterprise: { rpm: null, tpm: null, concurrency: 512, dailySpend: null, monthlySpend: null, softDailySpend: null, softMonthlySpend: null },
};

/** The catalogue file's `tiers:` section: per tier, the fields that replace the built-in default. */
export type TierLimitOverrides = Partial<Record<Tier, Partial<Limits>>>;

/** Each tier's limits: the built-in default with the file's overrides applied field by field. */
export function tierLimits(overrides: TierLimitOverrides = {}): Record<Tier, Limits> {
  return Object.fromEntries(TIERS.map((tier) => [tier, { ...DEFAULT_TIER_LIMITS[tier], ...(overrides[tier] ?? {}) }])) as Record<Tier, Limits>;
}
