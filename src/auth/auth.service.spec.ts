import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock/manual-clock.js';
import type { AppConfig } from '../config/app-config.js';
import type { RedisThrottlerStorage } from '../edge/redis-throttler.storage.js';
import { ApiError } from '../errors/api-error.js';
import { MetricsService } from '../observability/metrics.service.js';
import { ApiKeyHasher } from '../tenancy/api-key.hasher.js';
import { generateApiKey } from '../tenancy/api-key.secret.js';
import { AuthFailureThrottle } from './auth-failure.throttle.js';
import { AuthMetrics } from './auth.metrics.js';
import { AuthService } from './auth.service.js';
import type { CredentialRepository, StoredCredential } from './credential.repository.js';
import type { KeyUsageRecorder } from './key-usage.recorder.js';
import { PrincipalCache } from './principal.cache.js';

const PEPPER = 'unit-test-pepper-0123456789abcdef';

function stored(overrides: Partial<StoredCredential> = {}): StoredCredential {
  return {
    keyId: 'key_1',
    keyPrefix: 'sk-sy-ABCDEFGH',
    scopes: ['inference'],
    keyAllowedModels: [],
    expiresAt: null,
    revokedAt: null,
    orgId: 'org_1',
    orgTier: 'standard',
    orgActive: true,
    orgAllowedModels: [],
    ...overrides,
  };
}

/**
 * The Redis throttle storage's contract in memory (one fixed window that never rolls over, as within a
 * test's minute): blocked once a key's hits pass the limit, for blockDuration.
 */
function memoryThrottleStorage() {
  const hits = new Map<string, number>();
  const calls: string[] = [];
  const storage = {
    async increment(key: string, _ttl: number, limit: number, blockDuration: number, name: string) {
      calls.push(`${name}:${key}`);
      const n = (hits.get(key) ?? 0) + 1;
      hits.set(key, n);
      const blocked = n > limit;
      return { totalHits: n, timeToExpire: 60, isBlocked: blocked, timeToBlockExpire: blocked ? blockDuration / 1000 : 0 };
    },
  } as unknown as RedisThrottlerStorage;
  return { storage, calls };
}

/** A database of hash → row that counts lookups; `gate` holds lookups until released. */
function setup(rows: Record<string, StoredCredential> = {}, opts: { failuresPerMinute?: number; repository?: CredentialRepository } = {}) {
  const hasher = new ApiKeyHasher({ keyPepper: PEPPER });
  const byHash = new Map(Object.entries(rows).map(([key, row]) => [hasher.hash(key), row]));
  const lookups: string[] = [];
  let active = 0;
  let maxActive = 0;
  let gate: Promise<void> | undefined;
  const repository = {
    async findByHash(hash: string) {
      lookups.push(hash);
      active++;
      maxActive = Math.max(maxActive, active);
      await gate;
      active--;
      return byHash.get(hash) ?? null;
    },
  } as unknown as CredentialRepository;
  const touched: string[] = [];
  const usage = { touch: (keyId: string) => touched.push(keyId) } as unknown as KeyUsageRecorder;
  const cache = new PrincipalCache({ cacheTtlMs: 30_000, negativeCacheTtlMs: 2_000, cacheMaxEntries: 1000, negativeCacheMaxEntries: 1000 });
  const metrics = new MetricsService();
  const clock = new ManualClock();
  const throttle = memoryThrottleStorage();
  const config = { edge: { authFailuresPerMinute: opts.failuresPerMinute ?? 0 } } as AppConfig;
  const failures = new AuthFailureThrottle(throttle.storage, metrics, clock, config);
  const auth = new AuthService(hasher, opts.repository ?? repository, cache, usage, new AuthMetrics(metrics), failures);
  return {
    auth,
    clock,
    throttleCalls: throttle.calls,
    cache,
    hasher,
    lookups,
    touched,
    maxActive: () => maxActive,
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    return err;
  }
  assert.fail('expected a rejection');
}

describe('AuthService', () => {
  it('rejects missing, malformed and non-Switchyard keys with 401 without querying the database', async () => {
    const t = setup();
    for (const header of [undefined, '', 'Basic abc', 'Bearer', 'Bearer sk-openai-0123456789abcdefghijklmnopqrstuvwxyz', `Bearer sk-sy-short`]) {
      const err = await rejection(t.auth.authenticate(header));
      assert.equal(err.status, 401);
      assert.equal(err.code, 'invalid_api_key');
    }
    assert.equal(t.lookups.length, 0);
  });

  it('looks a key up by its HMAC alone and then serves it from memory', async () => {
    const key = generateApiKey();
    const t = setup({ [key]: stored() });
    for (let i = 0; i < 5; i++) {
      const principal = await t.auth.authenticate(`Bearer ${key}`, ['inference']);
      assert.equal(principal.keyId, 'key_1');
    }
    assert.deepEqual(t.lookups, [t.hasher.hash(key)]);
  });

  it('records each use in memory for the batched last-used write, not in the database', async () => {
    const key = generateApiKey();
    const t = setup({ [key]: stored() });
    await t.auth.authenticate(`Bearer ${key}`);
    await t.auth.authenticate(`Bearer ${key}`);
    assert.deepEqual(t.touched, ['key_1', 'key_1']);
    assert.equal(t.lookups.length, 1);
  });

  it('caches a wrong key briefly, so a flood of it costs one query', async () => {
    const t = setup();
    const wrong = generateApiKey();
    for (let i = 0; i < 20; i++) assert.equal((await rejection(t.auth.authenticate(`Bearer ${wrong}`))).status, 401);
    assert.equal(t.lookups.length, 1);
  });

  it('shares one query among concurrent requests with the same uncached key', async () => {
    const key = generateApiKey();
    const t = setup({ [key]: stored() });
    const release = t.hold();
    const pending = Array.from({ length: 10 }, () => t.auth.authenticate(`Bearer ${key}`));
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all(pending);
    assert.equal(t.lookups.length, 1);
  });

  it('runs at most four cache-miss queries at once, whatever the flood of distinct keys', async () => {
    const t = setup();
    const release = t.hold();
    const pending = Array.from({ length: 40 }, () => rejection(t.auth.authenticate(`Bearer ${generateApiKey()}`)));
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all(pending);
    assert.equal(t.lookups.length, 40);
    assert.ok(t.maxActive() <= 4, `max concurrent lookups ${t.maxActive()}`);
  });

  it("serves a waiting lookup from another address next, whatever one address's flood of random keys", async () => {
    const good = generateApiKey();
    const hasher = new ApiKeyHasher({ keyPepper: PEPPER });
    const started: string[] = [];
    const pending: Array<() => void> = [];
    const repository = {
      findByHash(hash: string) {
        started.push(hash);
        return new Promise<StoredCredential | null>((resolve) => pending.push(() => resolve(hash === hasher.hash(good) ? stored() : null)));
      },
    } as unknown as CredentialRepository;
    const t = setup({}, { repository });
    const flood = Array.from({ length: 50 }, () => rejection(t.auth.authenticate(`Bearer ${generateApiKey()}`, undefined, { source: '203.0.113.9' })));
    await new Promise((r) => setImmediate(r));
    const mine = t.auth.authenticate(`Bearer ${good}`, undefined, { source: '198.51.100.7' });
    await new Promise((r) => setImmediate(r));
    assert.equal(started.length, 4, 'four lookups run at once');
    // Two of the flood's lookups end: round-robin between the two addresses gives one of the two freed
    // slots to the other address (without fairness it would start 47th, after the whole flood).
    for (let i = 0; i < 2; i++) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(started.length, 6);
    assert.ok(started.slice(4).includes(hasher.hash(good)), 'the good key waited behind the flood');
    pending.splice(0).forEach((finish) => finish());
    assert.equal((await mine).keyId, 'key_1');
    while (pending.length || started.length < 50 + 1) {
      pending.splice(0).forEach((finish) => finish());
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(flood);
  });

  it('refuses an address with 429 once its failed authentications pass the limit, except for keys cached as valid', async () => {
    const known = generateApiKey();
    const later = generateApiKey();
    const t = setup({ [known]: stored(), [later]: stored({ keyId: 'key_2' }) }, { failuresPerMinute: 3 });
    const attacker = { source: '203.0.113.5' };
    await t.auth.authenticate(`Bearer ${known}`, undefined, attacker);
    assert.equal(t.throttleCalls.length, 0, 'a successful authentication reads no counter');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await rejection(t.auth.authenticate(`Bearer ${generateApiKey()}`, undefined, attacker))).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
    assert.equal(t.throttleCalls.length, 4, 'a blocked address costs no further counter calls');
    const refused = await rejection(t.auth.authenticate('Bearer nonsense', undefined, attacker));
    assert.equal(refused.status, 429);
    assert.equal(Number(refused.headers['retry-after']), 60);
    assert.equal((await t.auth.authenticate(`Bearer ${known}`, undefined, attacker)).keyId, 'key_1', 'a cached valid key still works');
    assert.equal((await rejection(t.auth.authenticate(`Bearer ${later}`, undefined, attacker))).status, 429, 'an uncached key would need the database');
    assert.equal((await t.auth.authenticate(`Bearer ${later}`, undefined, { source: '198.51.100.7' })).keyId, 'key_2', 'another address is not affected');
    t.clock.advance(60_000);
    assert.equal((await t.auth.authenticate(`Bearer ${later}`, undefined, attacker)).keyId, 'key_2', 'the block ends');
  });

  it('rejects a revoked key with 401 invalid_api_key', async () => {
    const key = generateApiKey();
    const t = setup({ [key]: stored({ revokedAt: new Date() }) });
    const err = await rejection(t.auth.authenticate(`Bearer ${key}`));
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
  });

  it('rejects an expired key from the moment it expires, even while it is cached', async (ctx) => {
    ctx.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const key = generateApiKey();
    const t = setup({ [key]: stored({ expiresAt: new Date(Date.now() + 150) }) });
    await t.auth.authenticate(`Bearer ${key}`);
    ctx.mock.timers.tick(149);
    await t.auth.authenticate(`Bearer ${key}`);
    ctx.mock.timers.tick(1);
    const err = await rejection(t.auth.authenticate(`Bearer ${key}`));
    assert.equal(err.status, 401);
    assert.match(err.message, /expired/);
    assert.equal(t.lookups.length, 1);
  });

  it('answers 403 for a key of a suspended organization and for a key without the required scope', async () => {
    const suspended = generateApiKey();
    const adminOnly = generateApiKey();
    const t = setup({ [suspended]: stored({ orgActive: false }), [adminOnly]: stored({ keyId: 'key_2', scopes: ['org_admin'] }) });
    const a = await rejection(t.auth.authenticate(`Bearer ${suspended}`, ['inference']));
    assert.deepEqual([a.status, a.type, a.code], [403, 'permission_error', 'organization_suspended']);
    const b = await rejection(t.auth.authenticate(`Bearer ${adminOnly}`, ['inference']));
    assert.deepEqual([b.status, b.type, b.code], [403, 'permission_error', 'permission_denied']);
  });

  it('never puts more of a presented key than its display prefix into an error message', async () => {
    const key = generateApiKey();
    const t = setup({ [key]: stored({ revokedAt: new Date() }) });
    const unknown = generateApiKey();
    for (const k of [key, unknown]) {
      const err = await rejection(t.auth.authenticate(`Bearer ${k}`));
      assert.ok(!err.message.includes(k.slice(0, 15)), err.message);
      assert.ok(err.message.includes(k.slice(0, 14)), err.message);
    }
    const pasted = 'sk-proj-THIS-IS-SOMEONE-ELSES-SECRET-0123456789';
    const err = await rejection(t.auth.authenticate(`Bearer ${pasted}`));
    assert.ok(!err.message.includes('sk-proj'), err.message);
  });

  it('intersects the organization and key model lists in the principal', async () => {
    const key = generateApiKey();
    const t = setup({ [key]: stored({ orgAllowedModels: ['a', 'b'], keyAllowedModels: ['b', 'c'] }) });
    const principal = await t.auth.authenticate(`Bearer ${key}`);
    assert.deepEqual([...principal.allowedModels!], ['b']);
  });
});
