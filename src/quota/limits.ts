/**
 * What limits apply to a request. Defaults come from the organization's tier (config `tiers`, or the
 * built-ins below); a policy row can override any field at the org, key or org×model level. Key and
 * org×model scopes have no limits unless a policy sets them.
 */
import type { Tier } from '../tenancy/principal.js';

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

export const NO_LIMITS: Limits = { rpm: null, tpm: null, concurrency: null, dailySpend: null, monthlySpend: null, softDailySpend: null, softMonthlySpend: null };

export const DEFAULT_TIER_LIMITS: Record<Tier, Limits> = {
  free: { rpm: 20, tpm: 40_000, concurrency: 2, dailySpend: 1, monthlySpend: 10, softDailySpend: null, softMonthlySpend: 8 },
  standard: { rpm: 600, tpm: 1_000_000, concurrency: 32, dailySpend: 100, monthlySpend: 2_000, softDailySpend: 80, softMonthlySpend: 1_600 },
  premium: { rpm: 3_000, tpm: 5_000_000, concurrency: 128, dailySpend: 1_000, monthlySpend: 20_000, softDailySpend: 800, softMonthlySpend: 16_000 },
  enterprise: { rpm: null, tpm: null, concurrency: 512, dailySpend: null, monthlySpend: null, softDailySpend: null, softMonthlySpend: null },
};

export type ScopeKind = 'org' | 'key' | 'model';

/** An override row: only the fields it sets replace the level below. */
export type LimitOverride = Partial<Limits>;

export function applyOverride(base: Limits, override: LimitOverride | undefined): Limits {
  if (!override) return base;
  const out = { ...base };
  for (const field of LIMIT_FIELDS) if (override[field] !== undefined) out[field] = override[field]!;
  return out;
}

export function scopeKey(kind: ScopeKind, orgId: string, id?: string): string {
  return kind === 'org' ? `org:${orgId}` : kind === 'key' ? `key:${id}` : `model:${orgId}:${id}`;
}
