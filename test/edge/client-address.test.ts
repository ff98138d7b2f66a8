/**
 * Who the client is, and what a flood of bad keys from one client may cost the others. The gateway
 * believes X-Forwarded-For only from SWITCHYARD_TRUSTED_PROXIES, takes the client to be the last hop
 * before a trusted one (so a client cannot pick its address by sending the header), and counts failed
 * authentications per client address: past the limit that address gets 429, while other clients
 * behind the same proxy, and keys already known to be valid, carry on.
 *
 * Distinct client hosts are real TCP connections from distinct loopback addresses (127.x.y.z); the
 * trusted proxy is 127.0.0.1, which forwards for the addresses it names in X-Forwarded-For.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { sample } from '../support/eventually.js';
import { createTenant } from '../support/harness.js';
import { TEST_ADMIN_KEY, type TenancyGateway, bootTenancyGateway } from '../tenancy/support.js';

const FAILURES_PER_MINUTE = 5;
let t: TenancyGateway;
const agents: Agent[] = [];

before(async () => {
  t = await bootTenancyGateway({
    env: {
      SWITCHYARD_TRUSTED_PROXIES: '127.0.0.1',
      SWITCHYARD_AUTH_FAILURES_PER_MINUTE: String(FAILURES_PER_MINUTE),
      SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE: '10',
    },
  });
});
after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await t?.close();
});

/** An address no other run used within the last minute (the counters live in Redis for a minute). */
const someAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
const someLoopback = () => `127.${randomInt(1, 255)}.${randomInt(256)}.${randomInt(1, 255)}`;
const randomKey = () => `sk-sy-${randomBytes(32).toString('base64url').slice(0, 43)}`;

/** A client connecting from `localAddress` (a host of its own), optionally sending X-Forwarded-For. */
function client(localAddress = '127.0.0.1') {
  const agent = new Agent({ localAddress });
  agents.push(agent);
  return async (method: string, path: string, key: string, forwardedFor?: string) => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (forwardedFor) headers['x-forwarded-for'] = forwardedFor;
    const res = await request(`${t.url}${path}`, { method, headers, dispatcher: agent });
    await res.body.text();
    return { status: res.statusCode, retryAfter: res.headers['retry-after'] };
  };
}

describe('client addresses and failed authentications', () => {
  it('behind a trusted proxy, one client flooding the admin API with random keys does not lock the others out', async () => {
    const proxy = client('127.0.0.1');
    const attacker = someAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await proxy('GET', '/admin/v1/me', randomKey(), attacker)).status);
    assert.deepEqual(statuses.slice(0, FAILURES_PER_MINUTE), Array(FAILURES_PER_MINUTE).fill(401), statuses.join(','));
    assert.ok(statuses.slice(FAILURES_PER_MINUTE).every((s) => s === 429), statuses.join(','));

    const colleague = someAddress();
    assert.equal((await proxy('GET', '/admin/v1/me', TEST_ADMIN_KEY, colleague)).status, 200, 'another client of the same proxy was locked out');
    assert.equal((await proxy('GET', '/admin/v1/me', randomKey(), colleague)).status, 401, "another client's first wrong key is an ordinary 401");
  });

  it('counts the address the trusted proxy saw, whatever the client puts in X-Forwarded-For', async () => {
    const proxy = client('127.0.0.1');
    const attacker = someAddress();
    const statuses: number[] = [];
    // The proxy appends the address it saw to whatever the client sent.
    for (let i = 0; i < 10; i++) statuses.push((await proxy('POST', '/v1/chat/completions', randomKey(), `${someAddress()}, ${attacker}`)).status);
    assert.deepEqual(statuses, [...Array(FAILURES_PER_MINUTE).fill(401), ...Array(10 - FAILURES_PER_MINUTE).fill(429)]);
  });

  it('ignores X-Forwarded-For from a host that is not a trusted proxy, so rotating it does not escape the count', async () => {
    const direct = client(someLoopback());
    const statuses: number[] = [];
    let last: { status: number; retryAfter: unknown } | undefined;
    for (let i = 0; i < 10; i++) {
      last = await direct('POST', '/v1/chat/completions', randomKey(), someAddress());
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [...Array(FAILURES_PER_MINUTE).fill(401), ...Array(10 - FAILURES_PER_MINUTE).fill(429)]);
    assert.ok(Number(last!.retryAfter) >= 1, 'a 429 says when to come back');
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.ok(sample(metrics, 'switchyard_quota_rejections_total', { scope: 'ip', kind: 'auth_failures' }) >= 5);
  });

  it('keeps serving valid keys: cached ones from a blocked address, and new ones from any other address', async () => {
    const host = client(someLoopback());
    // Made through the tenancy services (the admin API's per-address limit is not what this is about).
    const { apiKey: cached } = await createTenant(t.gateway);
    const { apiKey: fresh } = await createTenant(t.gateway);
    assert.equal((await host('GET', '/v1/models', cached)).status, 200);
    for (let i = 0; i < FAILURES_PER_MINUTE; i++) assert.equal((await host('GET', '/v1/models', randomKey())).status, 401);
    assert.equal((await host('GET', '/v1/models', randomKey())).status, 429, 'the address is blocked');
    assert.equal((await host('GET', '/v1/models', cached)).status, 200, 'a key cached as valid is not slowed by the block');
    assert.equal((await host('GET', '/v1/models', fresh)).status, 429, 'a key that would need a database lookup waits out the block');
    const neighbour = client(someLoopback());
    assert.equal((await neighbour('GET', '/v1/models', fresh)).status, 200, 'another host is not affected');
  });
});
