/**
 * Limits against the real Redis: each limit, reserve-then-reconcile accounting, lease expiry, spend
 * budgets, fail-open/closed, and two "replicas" racing for one organization's TPM.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Principal } from '../../src/tenancy/principal.js';
import type { CatalogModel } from '../../src/catalog/catalog.types.js';
import { DEFAULT_TIER_LIMITS, type AppConfig, type Limits, type Tier } from '../../src/config/index.js';
import { ApiError } from '../../src/errors/api-error.js';
import { DependencyMonitor } from '../../src/observability/dependency-monitor.js';
import { MetricsService } from '../../src/observability/metrics.service.js';
import { LimitPolicyRepository } from '../../src/quota/limit-policy.repository.js';
import { LimitPolicyService } from '../../src/quota/limit-policy.service.js';
import { InvalidationBus } from '../../src/redis/invalidation.bus.js';
import type { AuditLogRepository } from '../../src/tenancy/audit-log.repository.js';
import { NO_LIMITS, scopeKey } from '../../src/quota/limits.js';
import { QuotaService } from '../../src/quota/quota.service.js';
import { QuotaStore } from '../../src/quota/quota.store.js';
import { RedisService } from '../../src/redis/redis.service.js';
import { eventually } from '../support/eventually.js';

const REDIS = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });
const redisServices: RedisService[] = [];

function quotaConfig(tierLimits: Partial<Limits>, opts: { leaseMs?: number; failMode?: AppConfig['quota']['failMode']; redisUrl?: string } = {}): AppConfig {
  const tiers = Object.fromEntries((Object.keys(DEFAULT_TIER_LIMITS) as Tier[]).map((t) => [t, { ...NO_LIMITS, ...tierLimits }])) as Record<Tier, Limits>;
  return { redisUrl: opts.redisUrl ?? REDIS, quota: { tiers, leaseMs: opts.leaseMs ?? 60_000, failMode: opts.failMode ?? { rate: 'open', spend: 'closed' } } } as AppConfig;
}

/** One gateway replica's quota stack, with its own Redis connection. */
/** Overrides held in memory only (the database path is covered by the admin API tests). */
function memoryPolicies(config: AppConfig): LimitPolicyService {
  const bus = { listen: () => undefined } as unknown as InvalidationBus;
  return new LimitPolicyService(null as unknown as LimitPolicyRepository, bus, config, logger);
}

async function replica(config: AppConfig, policies = memoryPolicies(config)) {
  const redis = new RedisService(config, new DependencyMonitor(new MetricsService(), logger));
  redisServices.push(redis);
  await redis.onModuleInit().catch(() => undefined);
  const metrics = new MetricsService();
  const audit = { append: async () => undefined } as unknown as AuditLogRepository;
  const store = new QuotaStore(redis);
  return { quota: new QuotaService(store, policies, metrics, audit, config, logger), metrics, policies, store };
}

/** Counts the lease renewals `store` has completed (each extends the lease a full term from then). */
function countRenewals(store: QuotaStore): { completed(): number } {
  const renew = store.renew.bind(store);
  let completed = 0;
  store.renew = async (...args: Parameters<QuotaStore['renew']>) => {
    await renew(...args);
    completed++;
  };
  return { completed: () => completed };
}

after(async () => {
  for (const r of redisServices) await r.onApplicationShutdown();
});

function principal(): Principal {
  return { orgId: `org-${randomUUID()}`, keyId: `key-${randomUUID()}`, keyPrefix: 'sk-sy-test', tier: 'standard', scopes: new Set(['inference']), allowedModels: null };
}

const model = (prices = { in: 0, out: 0 }): CatalogModel => ({
  name: 'm', kind: 'chat', aliases: [], pool: 'p', runtime: 'sim', servedModel: 'm', contextWindow: 8192, maxOutputTokens: null,
  tokenizer: 'llama3', inputPricePerMTok: prices.in, outputPricePerMTok: prices.out, capabilities: {}, fallbacks: [], ownedBy: 'x', createdAt: new Date(),
});

async function refused(promise: Promise<unknown>, code: string): Promise<ApiError> {
  let caught: unknown;
  await promise.catch((err) => (caught = err));
  assert.ok(caught instanceof ApiError, `expected a refusal, got ${String(caught)}`);
  assert.equal(caught.status, 429);
  assert.equal(caught.code, code);
  return caught;
}

describe('quota limits on real Redis', () => {
  it('refuses the request over the RPM limit with retry-after and OpenAI headers', async () => {
    const { quota } = await replica(quotaConfig({ rpm: 3 }));
    const who = principal();
    const tickets = [];
    for (let i = 0; i < 3; i++) tickets.push(await quota.admit(who, model(), 10, 10));
    assert.equal(tickets[0]!.headers['x-ratelimit-limit-requests'], '3');
    assert.equal(tickets[0]!.headers['x-ratelimit-remaining-requests'], '2');
    assert.equal(tickets[2]!.headers['x-ratelimit-remaining-requests'], '0');
    assert.equal(tickets[0]!.headers['x-ratelimit-reset-requests'], '1m0s');
    const err = await refused(quota.admit(who, model(), 10, 10), 'rate_limit_exceeded');
    assert.equal(err.type, 'rate_limit_error');
    const retry = Number(err.headers['retry-after']);
    assert.ok(retry >= 59 && retry <= 60, `retry-after ${retry}`);
    assert.ok(Number(err.headers['retry-after-ms']) > 58_000);
    assert.equal(err.headers['x-ratelimit-remaining-requests'], '0');
    for (const t of tickets) await t.settle({ promptTokens: 10, completionTokens: 10 });
  });

  it('reserves prompt + max output before dispatch and reconciles with the real usage', async () => {
    const { quota } = await replica(quotaConfig({ tpm: 1000 }));
    const who = principal();
    const first = await quota.admit(who, model(), 100, 500);
    assert.equal(first.headers['x-ratelimit-remaining-tokens'], '400');
    await refused(quota.admit(who, model(), 100, 500), 'rate_limit_exceeded');
    // The first request used far less than it reserved: the difference comes back at once.
    await first.settle({ promptTokens: 100, completionTokens: 20 });
    const second = await quota.admit(who, model(), 100, 500);
    assert.equal(second.headers['x-ratelimit-remaining-tokens'], String(1000 - 120 - 600));
    await second.settle({ promptTokens: 100, completionTokens: 500 });
    await refused(quota.admit(who, model(), 100, 200), 'rate_limit_exceeded');
  });

  it('tells a request that can never fit the TPM limit so, without a retry-after', async () => {
    const { quota } = await replica(quotaConfig({ tpm: 1000 }));
    const err = await refused(quota.admit(principal(), model(), 900, 500), 'rate_limit_exceeded');
    assert.match(err.message, /Request too large/);
    assert.equal(err.headers['retry-after'], undefined);
  });

  it('holds a concurrency lease until settle, on every path', async () => {
    const { quota } = await replica(quotaConfig({ concurrency: 2 }));
    const who = principal();
    const a = await quota.admit(who, model(), 1, 1);
    const b = await quota.admit(who, model(), 1, 1);
    await refused(quota.admit(who, model(), 1, 1), 'rate_limit_exceeded');
    await a.settle({ promptTokens: 1, completionTokens: 0 }); // e.g. the client disconnected
    const c = await quota.admit(who, model(), 1, 1);
    await b.settle({ promptTokens: 1, completionTokens: 1 });
    await c.settle({ promptTokens: 1, completionTokens: 1 });
    await b.settle({ promptTokens: 1, completionTokens: 1 }); // settling twice is harmless
  });

  it('lets the leases of a gateway that died expire, at the end of their term', async (ctx) => {
    // Lease expiry is decided by the admitting replica's clock (Date.now() passed to the script), so
    // mocked Date walks it to either side of the deadline without waiting.
    ctx.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const config = quotaConfig({ concurrency: 1 }, { leaseMs: 1_000 });
    const dead = await replica(config);
    const alive = await replica(config);
    const who = principal();
    await dead.quota.admit(who, model(), 1, 1);
    dead.quota.onApplicationShutdown(); // stops renewing without settling: the process "died"
    await refused(alive.quota.admit(who, model(), 1, 1), 'rate_limit_exceeded');
    ctx.mock.timers.tick(999);
    await refused(alive.quota.admit(who, model(), 1, 1), 'rate_limit_exceeded');
    ctx.mock.timers.tick(2);
    const ticket = await alive.quota.admit(who, model(), 1, 1);
    await ticket.settle({ promptTokens: 1, completionTokens: 1 });
  });

  it('renews the lease of a long request (and its scope’s lease set) so it is not lost while it runs', async () => {
    const config = quotaConfig({ concurrency: 1 }, { leaseMs: 1_000 });
    const { quota, store } = await replica(config);
    const renewals = countRenewals(store);
    const who = principal();
    const long = await quota.admit(who, model(), 1, 1);
    // Checked right after each renewal (a full term ahead), up to the third: by then the lease and the
    // lease set's own expiry (2 × lease, real time in Redis) would both have lapsed without renewals.
    for (let n = 1; n <= 3; n++) {
      await eventually(() => renewals.completed() >= n, `renewal ${n}`);
      await refused(quota.admit(who, model(), 1, 1), 'rate_limit_exceeded');
    }
    await long.settle({ promptTokens: 1, completionTokens: 1 });
  });

  it('refuses a request whose worst-case cost would cross a hard daily budget, with insufficient_quota', async () => {
    // 1 currency unit per 1M tokens both ways: 1,000 tokens cost 0.001.
    const { quota } = await replica(quotaConfig({ dailySpend: 0.002 }));
    const who = principal();
    const priced = model({ in: 1, out: 1 });
    const a = await quota.admit(who, priced, 500, 1000); // reserves 0.0015
    const err = await refused(quota.admit(who, priced, 500, 1000), 'insufficient_quota');
    assert.equal(err.type, 'insufficient_quota');
    assert.match(err.message, /daily spend budget of 0\.00/);
    await a.settle({ promptTokens: 500, completionTokens: 100 }); // really cost 0.0006
    const b = await quota.admit(who, priced, 500, 800);
    await b.settle({ promptTokens: 500, completionTokens: 800 });
  });

  it('only alerts on a soft budget, once, when it is crossed', async () => {
    const { quota, metrics } = await replica(quotaConfig({ softDailySpend: 0.001 }));
    const who = principal();
    const priced = model({ in: 1, out: 1 });
    for (let i = 0; i < 4; i++) {
      const t = await quota.admit(who, priced, 300, 100);
      await t.settle({ promptTokens: 300, completionTokens: 100 });
    }
    const alerts = (await metrics.budgetAlerts.get()).values.find((v) => v.labels.period === 'daily');
    assert.equal(alerts?.value, 1);
  });

  it('applies key and org×model overrides on top of the tier defaults', async () => {
    const config = quotaConfig({ rpm: 100 });
    const policies = memoryPolicies(config);
    const { quota } = await replica(config, policies);
    const who = principal();
    policies.put(scopeKey('key', who.orgId, who.keyId), { rpm: 1 });
    await quota.admit(who, model(), 1, 1);
    await refused(quota.admit(who, model(), 1, 1), 'rate_limit_exceeded');
    const other = { ...principal(), orgId: who.orgId };
    policies.put(scopeKey('model', who.orgId, 'm'), { tpm: 50 });
    await refused(quota.admit(other, model(), 40, 20), 'rate_limit_exceeded');
  });

  it('fails closed for spend and open for rate limits when Redis is unreachable, without hanging', async () => {
    const down = 'redis://127.0.0.1:1';
    const spendy = await replica(quotaConfig({ dailySpend: 10 }, { redisUrl: down }));
    const started = Date.now();
    await assert.rejects(spendy.quota.admit(principal(), model(), 1, 1), (err: unknown) => err instanceof ApiError && err.status === 503 && err.code === 'quota_unavailable');
    const ratey = await replica(quotaConfig({ rpm: 10 }, { redisUrl: down }));
    const ticket = await ratey.quota.admit(principal(), model(), 1, 1);
    assert.deepEqual(ticket.headers, {});
    assert.equal((await ratey.metrics.quotaFailOpen.get()).values[0]?.value, 1);
    const strict = await replica(quotaConfig({ rpm: 10 }, { redisUrl: down, failMode: { rate: 'closed', spend: 'closed' } }));
    await assert.rejects(strict.quota.admit(principal(), model(), 1, 1), (err: unknown) => err instanceof ApiError && err.code === 'quota_unavailable');
    assert.ok(Date.now() - started < 2_000, 'answers at once');
  });

  it('never admits more tokens than the TPM limit across two replicas racing (zero overshoot)', async () => {
    const LIMIT = 20_000;
    const config = quotaConfig({ tpm: LIMIT });
    const replicas = [await replica(config), await replica(config)];
    const who = principal();
    let admitted = 0;
    let refusedCount = 0;
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const r = replicas[i % 2]!;
        const reserve = 100 + ((i * 37) % 400);
        try {
          await r.quota.admit(who, model(), reserve, 0);
          admitted += reserve;
        } catch (err) {
          assert.ok(err instanceof ApiError && err.status === 429);
          refusedCount++;
        }
      }),
    );
    assert.ok(refusedCount > 0, 'the limit was reached');
    assert.ok(admitted <= LIMIT, `admitted ${admitted} tokens against a limit of ${LIMIT}`);
    assert.ok(admitted > LIMIT - 500, `admitted ${admitted}: the limit is used, not starved`);
  });
});
