/**
 * Limit overrides: held in memory for the quota stage (`get`, no I/O), stored in PostgreSQL, changed
 * through the admin API, and reloaded on every replica within milliseconds through the invalidation
 * bus (a full reload after a lost subscription).
 */
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, DEFAULT_TIER_LIMITS, type AppConfig, type Limits, type Tier } from '../config/index.js';
import { LOGGER } from '../observability/index.js';
import { InvalidationBus } from '../redis/index.js';
import { ApiError, ErrorCode } from '../errors/index.js';
import { type Actor, assertOrgVisible, assertPlatformAdmin, auditEntry, isPlatformAdmin, type Principal } from '../tenancy/index.js';
import { applyOverride, NO_LIMITS, scopeKey, type LimitOverride, type ScopeKind } from './limits.js';
import { LimitPolicyRepository, type LimitPolicyRecord } from './limit-policy.repository.js';

export const LIMITS_CHANNEL = 'switchyard:limits:invalidate';

export interface LimitTarget {
  scope: ScopeKind;
  orgId: string;
  keyId?: string;
  model?: string;
}

/** The admin API's names of the limit fields (admin.dto.ts), for error messages and `param`. */
const API_NAMES: Record<keyof LimitOverride, string> = {
  rpm: 'requests_per_minute',
  tpm: 'tokens_per_minute',
  concurrency: 'max_concurrent_requests',
  dailySpend: 'daily_spend',
  monthlySpend: 'monthly_spend',
  softDailySpend: 'soft_daily_spend',
  softMonthlySpend: 'soft_monthly_spend',
};

/**
 * A key's limits that a platform admin set are a ceiling for the org's admins: every limit set there
 * must stay set, at most as high (removing the override or a field of it, or raising a value → 403).
 */
function assertOnlyTightens(ceiling: LimitOverride, next: LimitOverride): void {
  for (const [field, max] of Object.entries(ceiling) as Array<[keyof LimitOverride, number | null]>) {
    if (max === null || max === undefined) continue;
    const value = next[field] ?? undefined;
    if (value === undefined || value > max) {
      throw new ApiError(
        ErrorCode.PermissionDenied,
        `This key's ${API_NAMES[field]} (${max}) was set by a platform administrator; an organization admin may lower it but not ${value === undefined ? 'remove' : 'raise'} it.`,
        API_NAMES[field],
      );
    }
  }
}

@Injectable()
export class LimitPolicyService implements OnApplicationBootstrap {
  private overrides = new Map<string, LimitOverride>();

  constructor(
    private readonly repository: LimitPolicyRepository,
    private readonly bus: InvalidationBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    bus.listen<{ scopeKey: string }>(LIMITS_CHANNEL, {
      parse: (raw) => (typeof (raw as { scopeKey?: unknown })?.scopeKey === 'string' ? (raw as { scopeKey: string }) : undefined),
      apply: (event) => void this.reload(event.scopeKey),
      resync: () => void this.loadAll(),
      degraded: () => undefined,
    });
  }

  /**
   * Boot fails when the policies cannot be loaded: a replica serving without them would apply the
   * looser tier defaults to every limited key (the orchestrator restarts it; PostgreSQL was reachable
   * a moment before, at PrismaService's start-up check).
   */
  async onApplicationBootstrap(): Promise<void> {
    try {
      this.overrides = await this.fetchAll();
    } catch (err) {
      throw new Error(`loading limit policies failed; refusing to serve with the tier defaults only: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The override of one scope (hot path: a map lookup). */
  get(scope: string): LimitOverride | undefined {
    return this.overrides.get(scope);
  }

  /**
   * The limits of a principal's organization (its tier's defaults, then the org override) and of its key
   * (no limits unless a key override sets some). Hot path: two map lookups.
   */
  limitsFor(principal: Pick<Principal, 'orgId' | 'keyId' | 'tier'>): { org: Limits; key: Limits } {
    const tier = this.config.quota.tiers[principal.tier] ?? DEFAULT_TIER_LIMITS[principal.tier] ?? NO_LIMITS;
    return {
      org: applyOverride(tier, this.overrides.get(scopeKey('org', principal.orgId))),
      key: applyOverride(NO_LIMITS, this.overrides.get(scopeKey('key', principal.orgId, principal.keyId))),
    };
  }

  /** The org's effective limits and every override within it (admin view). */
  async describe(actor: Actor, orgId: string, tier: Tier): Promise<{ effective: Limits; policies: LimitPolicyRecord[] }> {
    assertOrgVisible(actor, orgId);
    const effective = applyOverride(this.config.quota.tiers[tier] ?? NO_LIMITS, this.overrides.get(scopeKey('org', orgId)));
    return { effective, policies: await this.repository.findByOrg(orgId) };
  }

  /**
   * Sets a scope's override (replacing the previous one; an empty override removes it). Org and
   * org×model limits are the platform's; an org admin may only limit its own organization's keys.
   */
  async set(actor: Actor, target: LimitTarget, override: LimitOverride): Promise<LimitPolicyRecord | null> {
    if (target.scope === 'key') assertOrgVisible(actor, target.orgId);
    else assertPlatformAdmin(actor, `set ${target.scope === 'org' ? 'organization' : 'model'} limits`);
    const key = scopeKey(target.scope, target.orgId, target.scope === 'key' ? target.keyId : target.model);
    const platform = isPlatformAdmin(actor);
    let locked = platform;
    if (!platform) {
      const current = await this.repository.find(key);
      if (current?.lockedByPlatform) assertOnlyTightens(current.override, override);
      locked = current?.lockedByPlatform ?? false;
    }
    const record = await this.repository.put(
      { scopeKey: key, scope: target.scope, orgId: target.orgId, keyId: target.keyId ?? null, model: target.model ?? null, lockedByPlatform: locked },
      override,
      auditEntry(actor, Object.keys(override).length ? 'limits.set' : 'limits.clear', { orgId: target.orgId, type: 'limit_policy', id: key }, { ...override }),
    );
    // This replica serves the new limits from the next request; the others reload on the broadcast.
    this.put(key, record?.override);
    await this.bus.publish(LIMITS_CHANNEL, { scopeKey: key });
    return record;
  }

  /** Test and bootstrap hook: replaces one scope's override in memory only. */
  put(scope: string, override: LimitOverride | undefined): void {
    if (override) this.overrides.set(scope, override);
    else this.overrides.delete(scope);
  }

  private async fetchAll(): Promise<Map<string, LimitOverride>> {
    const rows = await this.repository.findAll();
    return new Map(rows.map((r) => [r.scopeKey, r.override]));
  }

  /** After a lost subscription: a reload that fails keeps the previous (loaded) policies. */
  private async loadAll(): Promise<void> {
    try {
      this.overrides = await this.fetchAll();
    } catch (err) {
      this.logger.error({ err }, 'loading limit policies failed; keeping the previous ones');
    }
  }

  private async reload(key: string): Promise<void> {
    try {
      const row = await this.repository.find(key);
      this.put(key, row?.override);
    } catch (err) {
      this.logger.error({ err, scopeKey: key }, 'reloading a limit policy failed');
    }
  }
}
