/**
 * The operations endpoints as an operator and an outsider meet them: /ready answers every probe from
 * a cached, single-flight check (a probe storm costs PostgreSQL and Redis one query each per TTL),
 * tells outsiders only its status, and stays ready with every pool at zero replicas (scale-from-zero
 * needs requests to reach the gateway); /metrics and /ready's detail need the metrics token, or, with
 * none configured, a caller on the loopback interface that is not a forwarding proxy.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { sample } from '../support/eventually.js';
import { TEST_ADMIN_KEY, TEST_KEY_PEPPER, uniqueSuffix } from '../support/harness.js';
import { zeroReplicaCatalogue } from './support.js';

const TOKEN = 'metrics-token-for-the-ops-suite-0123';

async function boot(env: Record<string, string>): Promise<Gateway> {
  const config = loadConfig(
    {
      SWITCHYARD_DATABASE_URL: process.env.SWITCHYARD_DATABASE_URL,
      SWITCHYARD_REDIS_URL: process.env.SWITCHYARD_REDIS_URL,
      SWITCHYARD_KEY_PEPPER: TEST_KEY_PEPPER,
      SWITCHYARD_BOOTSTRAP_API_KEY: TEST_ADMIN_KEY,
      SWITCHYARD_PORT: '0',
      SWITCHYARD_IP_REQUESTS_PER_MINUTE: '0',
      SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE: '0',
      ...env,
    },
    zeroReplicaCatalogue(uniqueSuffix()),
  );
  return startGateway(config, createLogger('silent'));
}

/** Every pool of both gateways has zero replicas. `open` has no metrics token; `locked` has one. */
let open: Gateway;
let locked: Gateway;
before(async () => {
  [open, locked] = await Promise.all([
    boot({ SWITCHYARD_READY_CHECK_TTL_MS: '60000', SWITCHYARD_HOST: '0.0.0.0' }),
    boot({ SWITCHYARD_METRICS_TOKEN: TOKEN }),
  ]);
});
after(async () => {
  await Promise.all([open?.shutdown(), locked?.shutdown()]);
});

const port = (g: Gateway) => new URL(g.url).port;
const local = (g: Gateway, path: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port(g)}${path}`, { headers });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

describe('/ready', () => {
  it('is ready with every pool at zero replicas, and tells an outsider only its status', async () => {
    const res = await local(open, '/ready');
    const body = await json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(body, { status: 'ok' });
  });

  it('runs one PostgreSQL and one Redis check for a storm of probes within its TTL', async () => {
    const checks = async () => {
      const text = await (await local(open, '/metrics')).text();
      return [sample(text, 'switchyard_ready_checks_total', { dependency: 'postgres' }), sample(text, 'switchyard_ready_checks_total', { dependency: 'redis' })];
    };
    await local(open, '/ready'); // the first check of this TTL may already have run
    const [pgBefore, redisBefore] = await checks();
    assert.ok(pgBefore >= 1 && redisBefore >= 1, 'checks are counted');
    const statuses = await Promise.all(Array.from({ length: 200 }, async () => (await local(open, '/ready')).status));
    assert.ok(statuses.every((s) => s === 200));
    assert.deepEqual(await checks(), [pgBefore, redisBefore], 'no further check within the TTL');
  });

  it('gives the checks to a loopback caller asking for detail, and to token holders', async () => {
    const detail = await json(await local(open, '/ready?detail=1'));
    assert.equal(detail.checks.postgres.status, 'ok');
    assert.equal(detail.checks.redis.status, 'ok');
    assert.equal(detail.checks.pods.status, 'none');

    const refused = await local(locked, '/ready?detail=1');
    assert.equal(refused.status, 401);
    assert.equal((await json(refused)).error.type, 'authentication_error');
    const allowed = await local(locked, '/ready?detail=1', { authorization: `Bearer ${TOKEN}` });
    assert.equal(allowed.status, 200);
    assert.equal((await json(allowed)).checks.redis.status, 'ok');
  });
});

describe('/metrics', () => {
  it('requires the token when one is configured, even from loopback', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-of-the-same-sort-0000' }, { authorization: TOKEN }] as Array<Record<string, string>>) {
      const res = await local(locked, '/metrics', headers);
      assert.equal(res.status, 401, JSON.stringify(headers));
      const body = await json(res);
      assert.equal(body.error.type, 'authentication_error');
    }
    const res = await local(locked, '/metrics', { authorization: `Bearer ${TOKEN}` });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^# HELP switchyard_/m);
  });

  it('without a token, refuses a caller behind a forwarding proxy and one off the loopback interface', async () => {
    const forwarded = await local(open, '/metrics', { 'x-forwarded-for': '203.0.113.7' });
    assert.equal(forwarded.status, 403);
    assert.equal((await json(forwarded)).error.type, 'permission_error');
    assert.equal((await local(open, '/metrics')).status, 200);

    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    assert.ok(external, 'this machine has a non-loopback IPv4 address to call from');
    const remote = await fetch(`http://${external.address}:${port(open)}/metrics`);
    assert.equal(remote.status, 403);
    assert.equal((await fetch(`http://${external.address}:${port(open)}/ready`)).status, 200, 'readiness stays open to the kubelet');
  });
});
