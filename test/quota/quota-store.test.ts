/**
 * The quota store against the real Redis refuses amounts that would corrupt a limit: a reservation or
 * settlement that is negative, fractional or beyond 2^53 - 1 is refused in TypeScript before the call
 * and again by the Lua scripts, and nothing is written. A refused settlement leaves the reservation
 * standing (it over-counts, which is the safe side) and is logged and counted.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Principal } from '../../src/tenancy/principal.js';
import type { CatalogModel } from '../../src/catalog/catalog.types.js';
import { DEFAULT_TIER_LIMITS, type AppConfig, type Limits, type Tier } from '../../src/config/index.js';
import { DependencyMonitor } from '../../src/observability/dependency-monitor.js';
import { MetricsService } from '../../src/observability/metrics.service.js';
import type { LimitPolicyRepository } from '../../src/quota/limit-policy.repository.js';
import { LimitPolicyService } from '../../src/quota/limit-policy.service.js';
import { NO_LIMITS } from '../../src/quota/limits.js';
import { ADMIT_SCRIPT, SETTLE_SCRIPT } from '../../src/quota/quota.scripts.js';
import { QuotaService } from '../../src/quota/quota.service.js';
import { QuotaAmountError, QuotaStore, type AdmitRequest, type ScopeLimits } from '../../src/quota/quota.store.js';
import type { InvalidationBus } from '../../src/redis/invalidation.bus.js';
import { RedisService } from '../../src/redis/redis.service.js';
import type { AuditLogRepository } from '../../src/tenancy/audit-log.repository.js';

const REDIS = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DAY = '20300101';
const MONTH = '203001';
const redis = new RedisService({ redisUrl: REDIS } as AppConfig, new DependencyMonitor(new MetricsService(), pino({ level: 'silent' })));
const store = new QuotaStore(redis);
const ready = redis.onModuleInit();

after(async () => {
  await redis.onApplicationShutdown();
});

/** Amounts no limit may be charged with: negative, fractional, not finite, or past exact doubles. */
const BAD_AMOUNTS = [-1, -100_000_000_000, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 1e300];

/** One scope with every limit set, in a fresh organization. */
function scope(): ScopeLimits {
  return { prefix: `q:{o:test-${randomUUID()}}:org`, rpm: 1_000, tpm: 1_000_000, concurrency: 100, dayMicros: 1_000_000_000, monthMicros: 1_000_000_000 };
}

function admitRequest(s: ScopeLimits, fields: Partial<AdmitRequest> = {}): AdmitRequest {
  const now = Date.now();
  return { now, windowMs: 60_000, id: randomUUID(), tokens: 100, costMicros: 50, leaseExpiry: now + 60_000, day: DAY, month: MONTH, scopes: [s], ...fields };
}

/** Everything the scripts keep for a scope, as Redis holds it. */
async function state(prefix: string) {
  const c = redis.client;
  return {
    requests: await c.zrange(`${prefix}:rq`, '0', '-1'),
    reservations: await c.zrange(`${prefix}:tk`, '0', '-1'),
    tokens: await c.get(`${prefix}:tks`),
    leases: await c.zrange(`${prefix}:cc`, '0', '-1'),
    day: await c.get(`${prefix}:sd:${DAY}`),
    month: await c.get(`${prefix}:sm:${MONTH}`),
  };
}
const EMPTY = { requests: [], reservations: [], tokens: null, leases: [], day: null, month: null };

const refusedAmount = (field: string) => (err: unknown) => {
  assert.ok(err instanceof QuotaAmountError, String(err));
  assert.equal(err.field, field);
  return true;
};

describe('quota store refuses amounts that would corrupt a limit (real Redis)', () => {
  it('refuses a negative, fractional or unsafe reservation and writes nothing', async () => {
    await ready;
    for (const bad of BAD_AMOUNTS) {
      const s = scope();
      await assert.rejects(store.admit(admitRequest(s, { tokens: bad })), refusedAmount('tokens'), `tokens ${bad}`);
      await assert.rejects(store.admit(admitRequest(s, { costMicros: bad })), refusedAmount('cost'), `cost ${bad}`);
      assert.deepEqual(await state(s.prefix), EMPTY, `nothing written for ${bad}`);
    }
  });

  it('refuses a negative or fractional settlement and leaves the reservation as it was', async () => {
    await ready;
    const s = scope();
    const request = admitRequest(s);
    assert.equal((await store.admit(request)).admitted, true);
    const reserved = await state(s.prefix);
    assert.deepEqual([reserved.tokens, reserved.day, reserved.leases], ['100', '50', [request.id]]);
    const good = { id: request.id, reservedTokens: 100, actualTokens: 30, reservedCostMicros: 50, actualCostMicros: 20, day: DAY, month: MONTH, prefixes: [s.prefix] };
    const fields = { reservedTokens: 'reserved_tokens', actualTokens: 'actual_tokens', reservedCostMicros: 'reserved_cost', actualCostMicros: 'actual_cost' } as const;
    for (const [field, name] of Object.entries(fields)) {
      for (const bad of BAD_AMOUNTS) {
        await assert.rejects(store.settle({ ...good, [field]: bad }), refusedAmount(name), `${field} ${bad}`);
      }
    }
    assert.deepEqual(await state(s.prefix), reserved, 'no refused settlement touched the state');
    // A real settlement, with less used than reserved, still gives the difference back.
    assert.deepEqual(await store.settle(good), [[20, 20]]);
    const settled = await state(s.prefix);
    assert.deepEqual([settled.tokens, settled.day, settled.month, settled.leases], ['30', '20', '20', []]);
  });

  it('refuses the same amounts in the Lua scripts when the TypeScript check is bypassed', async () => {
    await ready;
    const c = redis.client;
    const malformed = ['-5', '-0', '1.5', '1e3', '', ' 7', 'abc', '9007199254740992', '1'.repeat(40)];
    for (const bad of malformed) {
      const s = scope();
      const now = Date.now();
      const admit = (tokens: string, cost: string) =>
        c.eval(ADMIT_SCRIPT, 0, now, 60_000, 'req', tokens, cost, now + 60_000, DAY, MONTH, 1, s.prefix, 1_000, 1_000_000, 100, 1_000_000_000, 1_000_000_000);
      await assert.rejects(admit(bad, '50'), /INVALID_AMOUNT tokens/, `tokens ${JSON.stringify(bad)}`);
      await assert.rejects(admit('100', bad), /INVALID_AMOUNT cost/, `cost ${JSON.stringify(bad)}`);
      assert.deepEqual(await state(s.prefix), EMPTY);
      assert.deepEqual(await admit('100', '50'), [1, 999, 1_000_000 - 100]);
      const before = await state(s.prefix);
      const settle = (args: string[]) => c.eval(SETTLE_SCRIPT, 0, 'req', ...args, DAY, MONTH, s.prefix);
      await assert.rejects(settle([bad, '30', '50', '20']), /INVALID_AMOUNT reserved_tokens/);
      await assert.rejects(settle(['100', bad, '50', '20']), /INVALID_AMOUNT actual_tokens/);
      await assert.rejects(settle(['100', '30', bad, '20']), /INVALID_AMOUNT reserved_cost/);
      await assert.rejects(settle(['100', '30', '50', bad]), /INVALID_AMOUNT actual_cost/);
      assert.deepEqual(await state(s.prefix), before, `nothing written for ${JSON.stringify(bad)}`);
    }
  });

  it('settles a reservation of 15 or more digits against the member it was admitted under', async () => {
    await ready;
    const s = { ...scope(), tpm: null, dayMicros: null, monthMicros: null };
    const request = admitRequest(s, { tokens: 123_456_789_012_345, costMicros: 9_007_199_254_740_991 });
    assert.equal((await store.admit(request)).admitted, true);
    await store.settle({ id: request.id, reservedTokens: 123_456_789_012_345, actualTokens: 10, reservedCostMicros: 9_007_199_254_740_991, actualCostMicros: 5, day: DAY, month: MONTH, prefixes: [s.prefix] });
    const settled = await state(s.prefix);
    assert.deepEqual([settled.tokens, settled.reservations], ['10', [`${request.id}:10`]]);
  });

  it('applies a settlement once: a retry (its first reply lost with Redis) or a late duplicate changes nothing', async () => {
    await ready;
    const s = scope();
    const request = admitRequest(s, { tokens: 100, costMicros: 50 });
    assert.equal((await store.admit(request)).admitted, true);
    const settlement = { id: request.id, reservedTokens: 100, actualTokens: 30, reservedCostMicros: 50, actualCostMicros: 20, day: DAY, month: MONTH, prefixes: [s.prefix] };
    assert.deepEqual(await store.settle(settlement), [[20, 20]]);
    const once = await state(s.prefix);
    assert.deepEqual([once.tokens, once.day, once.month, once.leases], ['30', '20', '20', []]);
    assert.deepEqual(await store.settle(settlement), [], 'the second settlement finds no lease and returns no totals');
    assert.deepEqual(await state(s.prefix), once);
  });
});

describe('quota service with amounts validation should have refused', () => {
  const logged: Array<{ msg: string; stage?: string }> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });

  function service(limits: Partial<Limits>, quotaStore: QuotaStore = store) {
    const tiers = Object.fromEntries((Object.keys(DEFAULT_TIER_LIMITS) as Tier[]).map((t) => [t, { ...NO_LIMITS, ...limits }])) as Record<Tier, Limits>;
    const config = { redisUrl: REDIS, quota: { tiers, leaseMs: 60_000, failMode: { rate: 'open', spend: 'closed' } } } as AppConfig;
    const policies = new LimitPolicyService(null as unknown as LimitPolicyRepository, { listen: () => undefined } as unknown as InvalidationBus, config, logger);
    const metrics = new MetricsService();
    const audit = { append: async () => undefined } as unknown as AuditLogRepository;
    return { quota: new QuotaService(quotaStore, policies, metrics, audit, config, logger), metrics };
  }
  const principal = (): Principal => ({ orgId: `org-${randomUUID()}`, keyId: `key-${randomUUID()}`, keyPrefix: 'sk-sy-test', tier: 'standard', scopes: new Set(['inference']), allowedModels: null });
  const model: CatalogModel = {
    name: 'm', kind: 'chat', aliases: [], pool: 'p', runtime: 'sim', servedModel: 'm', contextWindow: 8192, maxOutputTokens: null,
    tokenizer: 'llama3', inputPricePerMTok: 1, outputPricePerMTok: 2, capabilities: {}, fallbacks: [], ownedBy: 'x', createdAt: new Date(),
  };
  const errors = async (metrics: MetricsService, stage: string) => (await metrics.quotaErrors.get()).values.find((v) => v.labels.stage === stage)?.value ?? 0;

  it('does not admit a negative reservation (not even failing open) and counts it', async () => {
    await ready;
    const { quota, metrics } = service({ rpm: 10, tpm: 10_000, dailySpend: 1 });
    const who = principal();
    await assert.rejects(quota.admit(who, model, 10, -100_000_000_000), QuotaAmountError);
    await assert.rejects(quota.admit(who, model, 10, 1.5), QuotaAmountError);
    assert.equal(await errors(metrics, 'admit_refused'), 2);
    assert.equal(await errors(metrics, 'admit'), 0, 'not taken for Redis being down');
    const ticket = await quota.admit(who, model, 10, 10);
    assert.equal(ticket.headers['x-ratelimit-remaining-requests'], '9', 'the refused requests were not counted');
    assert.equal(ticket.headers['x-ratelimit-remaining-tokens'], String(10_000 - 20));
    await ticket.settle({ promptTokens: 10, completionTokens: 10 });
  });

  it('retries a settlement that failed while Redis was unreachable, and applies it once', async () => {
    await ready;
    let failures = 2;
    // The real store, except that its first two settlements fail the way ioredis does while reconnecting.
    const flaky = new Proxy(store, {
      get(target, prop) {
        if (prop === 'settle') return (s: Parameters<QuotaStore['settle']>[0]) => (failures-- > 0 ? Promise.reject(new Error('Connection is closed.')) : target.settle(s));
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { quota, metrics } = service({ tpm: 10_000, dailySpend: 1 }, flaky);
    const who = principal();
    const ticket = await quota.admit(who, model, 100, 400);
    await ticket.settle({ promptTokens: 100, completionTokens: 50 });
    assert.equal(await errors(metrics, 'settle'), 2, 'two failed attempts, then the settlement went through');
    const next = await quota.admit(who, model, 10, 10);
    assert.equal(next.headers['x-ratelimit-remaining-tokens'], String(10_000 - 150 - 20), 'the reservation was replaced by the real 150 tokens, once');
    await next.settle({ promptTokens: 10, completionTokens: 10 });
  });

  it('logs and counts a refused settlement, and the reservation stands', async () => {
    await ready;
    const { quota, metrics } = service({ tpm: 10_000, dailySpend: 1 });
    const who = principal();
    const ticket = await quota.admit(who, model, 100, 400);
    logged.length = 0;
    await ticket.settle({ promptTokens: 100, completionTokens: -100_000_000_000 });
    assert.equal(await errors(metrics, 'settle_refused'), 1);
    assert.equal(await errors(metrics, 'settle'), 0);
    assert.ok(
      logged.some((l) => /settlement refused/.test(l.msg)),
      JSON.stringify(logged),
    );
    const next = await quota.admit(who, model, 10, 10);
    assert.equal(next.headers['x-ratelimit-remaining-tokens'], String(10_000 - 500 - 20), 'the 500-token reservation still counts');
    await next.settle({ promptTokens: 10, completionTokens: 10 });
  });
});
