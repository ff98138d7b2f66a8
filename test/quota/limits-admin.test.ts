/**
 * Limits configured through the admin API: stored, audited, effective within a second on every
 * replica, with the roles enforced; and the per-IP edge throttle in front of authentication.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RedisService } from '../../src/redis/redis.service.js';
import { bootGateways, createTenant, testCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';

const suffix = uniqueSuffix();
let a: TestGateway;
let b: TestGateway;

before(async () => {
  const catalogue = testCatalogue(suffix);
  [a, b] = await bootGateways(2, catalogue);
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

async function call(gw: TestGateway, key: string, method: string, path: string, body?: object) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
const admin = (method: string, path: string, body?: object) => call(a, a.adminKey, method, `/admin/v1${path}`, body);
const chat = (gw: TestGateway, key: string) => call(gw, key, 'POST', '/v1/chat/completions', { model: gw.names.chat, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });

describe('limits through the admin API', () => {
  it('overrides an organization’s tier defaults, shows the effective limits and audits the change', async () => {
    const t = await createTenant(a.gateway, { tier: 'free' });
    const set = await admin('PUT', `/organizations/${t.orgId}/limits`, { requests_per_minute: 1000, daily_spend: 12.5 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.effective.requests_per_minute, 1000);
    assert.equal(set.body.effective.daily_spend, 12.5);
    assert.equal(set.body.effective.tokens_per_minute, 40_000, 'fields not set keep the tier default');
    assert.deepEqual(set.body.policies.map((p: { scope: string }) => p.scope), ['org']);
    const audit = await admin('GET', `/audit-log?org_id=${t.orgId}`);
    assert.ok(audit.body.data.some((e: { action: string }) => e.action === 'limits.set'), JSON.stringify(audit.body.data.map((e: { action: string }) => e.action)));
    const cleared = await admin('PUT', `/organizations/${t.orgId}/limits`, {});
    assert.equal(cleared.body.effective.requests_per_minute, 20);
    assert.deepEqual(cleared.body.policies, []);
  });

  it('takes effect within a second on every replica', async () => {
    const t = await createTenant(a.gateway);
    assert.equal((await chat(b, t.apiKey)).status, 200);
    assert.equal((await chat(b, t.apiKey)).status, 200);
    const started = Date.now();
    const res = await admin('PUT', `/organizations/${t.orgId}/keys/${t.keyId}/limits`, { requests_per_minute: 2 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    let status = 0;
    while (Date.now() - started < 1_000 && status !== 429) status = (await chat(b, t.apiKey)).status;
    assert.equal(status, 429, 'replica B refuses within a second of the change on A');
  });

  it('limits one model for an organization', async () => {
    const t = await createTenant(a.gateway);
    const res = await admin('PUT', `/organizations/${t.orgId}/models/${a.names.alias}/limits`, { max_concurrent_requests: 0 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.policies[0].model, a.names.chat, 'aliases resolve to the catalogue name');
    const refused = await chat(a, t.apiKey);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'rate_limit_exceeded');
  });

  it('lets an org admin limit its own keys but not its organization, nor another organization’s keys', async () => {
    const mine = await createTenant(a.gateway, { scopes: ['org_admin', 'inference'] });
    const other = await createTenant(a.gateway);
    const asOrgAdmin = (method: string, path: string, body?: object) => call(a, mine.apiKey, method, `/admin/v1${path}`, body);
    assert.equal((await asOrgAdmin('PUT', `/organizations/${mine.orgId}/keys/${mine.keyId}/limits`, { tokens_per_minute: 5000 })).status, 200);
    const own = await asOrgAdmin('PUT', `/organizations/${mine.orgId}/limits`, { requests_per_minute: 1_000_000 });
    assert.equal(own.status, 403);
    assert.equal(own.body.error.code, 'permission_denied');
    assert.equal((await asOrgAdmin('PUT', `/organizations/${other.orgId}/keys/${other.keyId}/limits`, { requests_per_minute: 1 })).status, 404);
    assert.equal((await asOrgAdmin('PUT', `/organizations/${mine.orgId}/models/${a.names.chat}/limits`, { requests_per_minute: 1 })).status, 403);
  });

  it('validates limit values', async () => {
    const t = await createTenant(a.gateway);
    const bad = await admin('PUT', `/organizations/${t.orgId}/limits`, { requests_per_minute: -1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, 'requests_per_minute');
    assert.equal((await admin('PUT', `/organizations/${t.orgId}/limits`, { tokens_per_minute: 1.5 })).status, 400);
  });
});

describe('per-IP edge throttle', () => {
  it('stops a flood of unknown keys before they reach the database, across replicas, while known keys keep working', async () => {
    const catalogue = testCatalogue(uniqueSuffix());
    const env = { SWITCHYARD_IP_REQUESTS_PER_MINUTE: '5', SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE: '2' };
    const [x, y] = await bootGateways(2, catalogue, env);
    // Start from a clean slate for this address (an earlier run within the minute would still count).
    const redis = x.gateway.app.get(RedisService).client;
    await redis.del(...['v1', 'admin'].flatMap((n) => [`throttle:${n}:127.0.0.1:hits`, `throttle:${n}:127.0.0.1:block`]));
    try {
      const known = await createTenant(x.gateway);
      const unseen = await createTenant(x.gateway);
      assert.equal((await chat(x, known.apiKey)).status, 200, 'first use: looked up (counts toward the IP limit), then cached');
      const statuses: number[] = [];
      // Distinct keys: a repeated wrong key is answered from the negative cache and costs nothing.
      for (let i = 0; i < 8; i++) statuses.push((await chat(i % 2 ? y : x, `sk-sy-${randomBytes(24).toString('hex').slice(0, 43)}`)).status);
      // Every answer is 401 (wrong key) until the shared per-IP limit is reached, then 429.
      const first429 = statuses.indexOf(429);
      assert.ok(first429 !== -1 && first429 <= 4, statuses.join(','));
      assert.ok(statuses.slice(0, first429).every((s) => s === 401) && statuses.slice(first429).every((s) => s === 429), statuses.join(','));
      const throttled = await chat(x, unseen.apiKey);
      assert.equal(throttled.status, 429, 'a key not yet known waits too: it would need a database lookup');
      assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
      assert.equal((await chat(x, known.apiKey)).status, 200, 'a known key costs the database nothing: only its quotas apply');
      const adminStatuses: number[] = [];
      for (let i = 0; i < 4; i++) adminStatuses.push((await call(x, 'sk-sy-nope', 'GET', '/admin/v1/me')).status);
      assert.equal(adminStatuses.at(-1), 429, adminStatuses.join(','));
    } finally {
      await Promise.all([x.close(), y.close()]);
    }
  });
});
