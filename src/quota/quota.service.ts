/**
 * The quota stage: one atomic Redis call admits a request against every limit that applies (RPM, TPM
 * with the request's worst case reserved, a concurrency lease, hard spend budgets), and one call after
 * the request settles it with the real usage — on every path, including client disconnects and
 * upstream failures. Over a limit → 429 with OpenAI's headers.
 */
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Principal } from '../tenancy/index.js';
import type { CatalogModel } from '../catalog/index.js';
import { APP_CONFIG, type AppConfig, type Limits } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { LOGGER } from '../observability/index.js';
import { MetricsService } from '../observability/index.js';
import { applyOverride, NO_LIMITS, scopeKey, type ScopeKind } from './limits.js';
import { SYSTEM_ACTOR, auditEntry } from '../tenancy/index.js';
import { AuditLogRepository } from '../tenancy/index.js';
import { LimitPolicyService } from './limit-policy.service.js';
import { QuotaAmountError, QuotaStore, type AdmitKind, type ScopeLimits } from './quota.store.js';
import { formatDuration, rateLimitHeaders, type RateLimitState } from './rate-limit-headers.js';

const WINDOW_MS = 60_000;
const MICROS = 1_000_000;

export interface QuotaUsage {
  promptTokens: number;
  completionTokens: number;
}

/** An admitted request's reservation. `settle` must be called exactly once. */
export interface QuotaTicket {
  id: string;
  /** x-ratelimit-* headers for the response. */
  headers: Record<string, string>;
  /** What was reserved: the prompt and the most the request can generate. */
  reserved: QuotaUsage;
  settle(usage: QuotaUsage): Promise<void>;
}

interface Scope {
  kind: ScopeKind;
  label: string;
  limits: Limits;
  store: ScopeLimits;
}

const toMicros = (amount: number | null) => (amount === null ? null : Math.round(amount * MICROS));

function dayAndMonth(now: number): { day: string; month: string; dayEndMs: number; monthEndMs: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = `${y}${String(m + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  return {
    day,
    month: day.slice(0, 6),
    dayEndMs: Date.UTC(y, m, d.getUTCDate() + 1) - now,
    monthEndMs: Date.UTC(y, m + 1, 1) - now,
  };
}

@Injectable()
export class QuotaService implements OnApplicationShutdown {
  private readonly leaseMs: number;
  private readonly renewals = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: QuotaStore,
    private readonly policies: LimitPolicyService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditLogRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.leaseMs = config.quota.leaseMs;
  }

  /** The limits of each scope that applies to this principal and model. */
  scopes(principal: Principal, model: string): Scope[] {
    const tag = `{o:${principal.orgId}}`;
    const limits = this.policies.limitsFor(principal);
    const candidates: Array<{ kind: ScopeKind; label: string; limits: Limits; prefix: string }> = [
      { kind: 'org', label: `organization ${principal.orgId}`, limits: limits.org, prefix: `q:${tag}:org` },
      { kind: 'key', label: `key ${principal.keyPrefix}`, limits: limits.key, prefix: `q:${tag}:key:${principal.keyId}` },
      { kind: 'model', label: `model ${model} in organization ${principal.orgId}`, limits: applyOverride(NO_LIMITS, this.policies.get(scopeKey('model', principal.orgId, model))), prefix: `q:${tag}:model:${model}` },
    ];
    return candidates
      .filter((c) => c.kind === 'org' || Object.values(c.limits).some((v) => v !== null))
      .map((c) => ({
        kind: c.kind,
        label: c.label,
        limits: c.limits,
        store: { prefix: c.prefix, rpm: c.limits.rpm, tpm: c.limits.tpm, concurrency: c.limits.concurrency, dayMicros: toMicros(c.limits.dailySpend), monthMicros: toMicros(c.limits.monthlySpend) },
      }));
  }

  async admit(principal: Principal, model: CatalogModel, promptTokens: number, maxOutputTokens: number): Promise<QuotaTicket> {
    const scopes = this.scopes(principal, model.name);
    const id = randomUUID();
    const now = Date.now();
    const { day, month, dayEndMs, monthEndMs } = dayAndMonth(now);
    const tokens = promptTokens + maxOutputTokens;
    const cost = (p: number, c: number) => Math.ceil(p * model.inputPricePerMTok + c * model.outputPricePerMTok);
    const reservedCost = cost(promptTokens, maxOutputTokens);
    let result;
    try {
      result = await this.store.admit({ now, windowMs: WINDOW_MS, id, tokens, costMicros: reservedCost, leaseExpiry: now + this.leaseMs, day, month, scopes: scopes.map((s) => s.store) });
    } catch (err) {
      if (err instanceof QuotaAmountError) {
        // Validation lets no such request through, so this is a bug: refused (a 500), never admitted
        // and never taken for Redis being down (which may fail open).
        this.metrics.quotaErrors.inc({ stage: 'admit_refused' });
        this.logger.error({ err, orgId: principal.orgId, model: model.name, promptTokens, maxOutputTokens }, 'quota reservation refused: not a whole number ≥ 0');
        throw err;
      }
      return this.unavailable(scopes, err, { promptTokens, completionTokens: maxOutputTokens });
    }
    if (!result.admitted) {
      const scope = scopes[result.scope]!;
      this.metrics.quotaRejections.inc({ scope: scope.kind, kind: result.kind });
      throw this.refusal(scope, result.kind, result.limit, tokens, result.kind === 'spend_day' ? dayEndMs : result.kind === 'spend_month' ? monthEndMs : result.resetMs, model.name);
    }

    // The tightest scope's numbers go in the headers (what the client will hit first).
    const state: RateLimitState = {};
    result.remaining.forEach((r, i) => {
      const limits = scopes[i]!.limits;
      if (limits.rpm !== null && (!state.requests || r.requests < state.requests.remaining)) state.requests = { limit: limits.rpm, remaining: r.requests, resetMs: WINDOW_MS };
      if (limits.tpm !== null && (!state.tokens || r.tokens < state.tokens.remaining)) state.tokens = { limit: limits.tpm, remaining: r.tokens, resetMs: WINDOW_MS };
    });

    const prefixes = scopes.map((s) => s.store.prefix);
    // Long streams keep their concurrency lease alive; a dead gateway's leases lapse after leaseMs.
    const renewal = setInterval(() => void this.store.renew(id, Date.now() + this.leaseMs, this.leaseMs * 2, prefixes).catch(() => undefined), Math.max(1000, this.leaseMs / 3));
    renewal.unref();
    this.renewals.add(renewal);
    let settled = false;
    return {
      id,
      headers: rateLimitHeaders(state),
      reserved: { promptTokens, completionTokens: maxOutputTokens },
      settle: async (usage) => {
        if (settled) return;
        settled = true;
        const done = () => {
          clearInterval(renewal);
          this.renewals.delete(renewal);
        };
        const actualTokens = usage.promptTokens + usage.completionTokens;
        const actualCost = cost(usage.promptTokens, usage.completionTokens);
        const settlement = { id, reservedTokens: tokens, actualTokens, reservedCostMicros: reservedCost, actualCostMicros: actualCost, day, month, prefixes };
        // Redis unreachable (restarting, failing over): the settlement is retried with backoff for up to
        // leaseMs while the lease keeps being renewed, so usage is not lost to a short outage. Retrying
        // is safe: the script applies a settlement once (the lease is its receipt).
        const giveUpAt = Date.now() + this.leaseMs;
        for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 2_000)) {
          try {
            const totals = await this.store.settle(settlement);
            done();
            this.alertSoftBudgets(principal, scopes, totals, actualCost);
            return;
          } catch (err) {
            if (err instanceof QuotaAmountError) {
              done();
              // Usage that cannot be real is not applied: the reservation stands (over-counts, the safe
              // side) until it leaves the window, and the lease lapses after leaseMs.
              this.metrics.quotaErrors.inc({ stage: 'settle_refused' });
              this.logger.error({ err, quotaId: id, orgId: principal.orgId, usage }, 'quota settlement refused: usage is not a whole number ≥ 0; the reservation stands');
              return;
            }
            this.metrics.quotaErrors.inc({ stage: 'settle' });
            if (Date.now() + delayMs > giveUpAt || !this.renewals.has(renewal)) {
              done();
              // The reservation stands (fails safe: over-counts) and the lease lapses on its own. A Redis
              // outage is logged once by the Redis service and counted above; anything else, here.
              if (!this.store.reportOutage(err, 'quota_settle')) this.logger.error({ err, quotaId: id, orgId: principal.orgId, usage }, 'quota settle failed until the lease time ran out; the reservation stands');
              return;
            }
            // A Redis outage is logged once (then its recovery) by the Redis service; anything else per attempt.
            if (!this.store.reportOutage(err, 'quota_settle')) this.logger.warn({ err, quotaId: id, retryInMs: delayMs }, 'quota settle failed; retrying');
            await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
          }
        }
      },
    };
  }

  private refusal(scope: Scope, kind: AdmitKind, limit: number, tokens: number, resetMs: number, model: string): ApiError {
    const retryAfter = { 'retry-after': String(Math.max(1, Math.ceil(resetMs / 1000))), 'retry-after-ms': String(Math.ceil(resetMs)) };
    const wait = `Please try again in ${formatDuration(resetMs)}.`;
    switch (kind) {
      case 'rpm':
        return new ApiError(ErrorCode.RateLimitExceeded, `Rate limit reached for ${model} on requests per minute (RPM) for ${scope.label}: Limit ${limit}. ${wait}`, null, {
          ...retryAfter,
          ...rateLimitHeaders({ requests: { limit, remaining: 0, resetMs } }),
        });
      case 'tpm':
        return new ApiError(ErrorCode.RateLimitExceeded, `Rate limit reached for ${model} on tokens per minute (TPM) for ${scope.label}: Limit ${limit}, Requested ${tokens}. ${wait}`, null, {
          ...retryAfter,
          ...rateLimitHeaders({ tokens: { limit, remaining: 0, resetMs } }),
        });
      case 'tpm_too_large':
        return new ApiError(
          ErrorCode.RateLimitExceeded,
          `Request too large for ${model} on tokens per minute (TPM) for ${scope.label}: Limit ${limit}, Requested ${tokens} (prompt plus maximum output). Reduce the prompt or max_tokens.`,
        );
      case 'concurrency':
        return new ApiError(ErrorCode.RateLimitExceeded, `Too many concurrent requests for ${scope.label}: Limit ${limit}. ${wait}`, null, retryAfter);
      case 'spend_day':
      case 'spend_month':
        return new ApiError(
          ErrorCode.InsufficientQuota,
          `You exceeded your current quota: the ${kind === 'spend_day' ? 'daily' : 'monthly'} spend budget of ${(limit / MICROS).toFixed(2)} for ${scope.label} is used up. It resets in ${formatDuration(resetMs)}.`,
          null,
          retryAfter,
        );
    }
  }

  /** Redis is down: spend fails closed by default, rate limits open (configurable). Never hangs. */
  private unavailable(scopes: Scope[], err: unknown, reserved: QuotaUsage): QuotaTicket {
    this.metrics.quotaErrors.inc({ stage: 'admit' });
    const hasSpend = scopes.some((s) => s.limits.dailySpend !== null || s.limits.monthlySpend !== null);
    const { spend, rate } = this.config.quota.failMode;
    // A Redis outage is logged once by the dependency monitor and counted per request; anything else
    // (a script error) is logged here.
    const reported = this.store.reportOutage(err, 'quota_admit');
    if ((hasSpend && spend === 'closed') || rate === 'closed') {
      if (!reported) this.logger.error({ err }, 'quota store unavailable; refusing (fail closed)');
      throw new ApiError(ErrorCode.QuotaUnavailable, 'Usage limits cannot be checked right now. Please retry shortly.', null, { 'retry-after': '1' });
    }
    this.metrics.quotaFailOpen.inc();
    if (!reported) this.logger.warn({ err }, 'quota store unavailable; admitting without limits (fail open)');
    return { id: 'unchecked', headers: {}, reserved, settle: async () => undefined };
  }

  private alertSoftBudgets(principal: Principal, scopes: Scope[], totals: Array<[number, number]>, costMicros: number): void {
    scopes.forEach((scope, i) => {
      const [day, month] = totals[i] ?? [0, 0];
      const checks: Array<[string, number | null, number]> = [
        ['daily', toMicros(scope.limits.softDailySpend), day],
        ['monthly', toMicros(scope.limits.softMonthlySpend), month],
      ];
      for (const [period, soft, total] of checks) {
        // Alert once: on the request that carried the total across the threshold.
        if (soft !== null && total >= soft && total - costMicros < soft) {
          const details = { scope: scope.label, period, spent: total / MICROS, softBudget: soft / MICROS };
          this.metrics.budgetAlerts.inc({ scope: scope.kind, period });
          this.logger.warn(details, 'soft spend budget crossed');
          const entry = auditEntry(SYSTEM_ACTOR, 'budget.soft_crossed', { orgId: principal.orgId, type: 'limit_policy', id: scope.store.prefix }, { ...details, keyPrefix: principal.keyPrefix });
          void this.audit.append(entry).catch((err) => this.logger.error({ err }, 'writing the soft-budget audit event failed'));
        }
      }
    });
  }

  onApplicationShutdown(): void {
    // Also ends the retries of pending settlements (they check membership before waiting again).
    for (const timer of this.renewals) clearInterval(timer);
    this.renewals.clear();
  }
}
