/**
 * What limits apply to a request. Defaults come from the organization's tier (AppConfig quota.tiers:
 * the built-ins of src/config/tiers.ts with the config file's `tiers:` applied); a policy row can
 * override any field at the org, key or org×model level. Key and org×model scopes have no limits
 * unless a policy sets them.
 */
import { LIMIT_FIELDS, type Limits } from '../config/index.js';

export const NO_LIMITS: Limits = { rpm: null, tpm: null, concurrency: null, dailySpend: null, monthlySpend: null, softDailySpend: null, softMonthlySpend: null };

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
