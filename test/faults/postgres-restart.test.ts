/**
 * Fault: PostgreSQL restarted under load. Two gateway replicas use a PostgreSQL cluster of this suite's
 * own (test/support/private-postgres.ts: initdb + pg_ctl on a spare port) and the shared Redis; eight
 * clients keep sending streamed and non-streamed requests to both while the cluster stops (`pg_ctl stop
 * -m fast`, which also cuts every open connection) and starts again.
 *
 * What must hold: the request path needs no query for a key already authenticated (the principal
 * cache), so the clients see no error at all; a key that must be looked up while the database is away
 * gets OpenAI's error object at once, never a hang; once the cluster is back, both replicas reach it again
 * without a restart of their own (a key made after the restart works on both); and every request is
 * settled exactly once (method: test/faults/support.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { spawnSimPod, type SimPod } from '../../runtimes/sim/spawn.js';
import { eventually } from '../support/eventually.js';
import { bootGateway, createTenant, staticCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { PRICES, drain, quotaState, settledCost, sum, type Seen } from './support.js';

const PROFILE = 'llama-3.1-70b-tp4-h100';
const SERVED = 'meta-llama/Llama-3.2-1B-Instruct';
const MAX_TOKENS = 200;
const messages = [{ role: 'user' as const, content: 'Describe a rail yard at dawn.' }];

let pods: SimPod[];
let replicas: TestGateway[];
let pg: PrivatePostgres;
let model: string;

before(async () => {
  pg = await startPrivatePostgres();
  pods = await Promise.all([0, 1].map(() => spawnSimPod({ model: SERVED, profile: PROFILE, startTimeoutMs: 120_000 })));
  const suffix = uniqueSuffix();
  const catalogue = staticCatalogue(suffix, pods.map((p) => p.baseUrl), { prices: PRICES });
  replicas = await Promise.all([0, 1].map(() => bootGateway(catalogue, { SWITCHYARD_DATABASE_URL: pg.url, SWITCHYARD_ROUTING_POLICY: 'round-robin' })));
  model = `m-${suffix}`;
});
after(async () => {
  await Promise.all((replicas ?? []).map((r) => r.close()));
  await Promise.all((pods ?? []).map((p) => p.stop()));
  pg?.destroy();
});

describe('PostgreSQL restarted under load', () => {
  it('keeps serving authenticated keys with no error, refuses unknown ones with an OpenAI error, reconnects, and settles every request once', async () => {
    const [a, b] = replicas as [TestGateway, TestGateway];
    const tenant = await createTenant(a.gateway, { tier: 'standard' });
    // Made now, first used while the database is away: its lookup cannot succeed then.
    const unseen = await createTenant(a.gateway, { tier: 'standard' });
    const clients = replicas.map((r) => new OpenAI({ baseURL: `${r.url}/v1`, apiKey: tenant.apiKey, maxRetries: 0, timeout: 30_000 }));
    const probe = await clients[0]!.chat.completions.create({ model, messages, max_tokens: 1 });
    const prompt = probe.usage!.prompt_tokens;

    const seen: Seen[] = [];
    const failures: unknown[] = [];
    let running = true;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; running; i += 8) {
        const client = clients[i % 2]!;
        try {
          if (i % 3 === 0) {
            const res = await client.chat.completions.create({ model, messages, max_tokens: MAX_TOKENS });
            seen.push({ ok: true, usage: res.usage, chunks: 0 });
          } else {
            const body = { model, messages, max_tokens: MAX_TOKENS, stream: true, stream_options: { include_usage: true } };
            const s = await drain(await client.chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsStreaming));
            if (s.ok) seen.push(s);
            else failures.push(s.error);
          }
        } catch (err) {
          failures.push(err);
        }
      }
    });
    await eventually(() => seen.length >= 4, 'the load to be served', 20_000);

    pg.stop('fast');
    const during = seen.length;
    const refused = await Promise.all(
      replicas.map((r) =>
        fetch(`${r.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${unseen.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages, max_tokens: 2 }),
          signal: AbortSignal.timeout(20_000),
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as { error?: { type: string; code: string } } })),
      ),
    );
    await eventually(() => seen.length >= during + 4, 'authenticated keys to be served while the database is away', 20_000);
    pg.start();

    // Reconnected: a key made after the restart (a write, then a lookup on each replica) works on both.
    const fresh = await createTenant(b.gateway, { tier: 'standard' });
    for (const r of replicas) {
      const res = await new OpenAI({ baseURL: `${r.url}/v1`, apiKey: fresh.apiKey, maxRetries: 0 }).chat.completions.create({ model, messages, max_tokens: 2 });
      assert.equal(res.choices.length, 1);
    }
    running = false;
    await Promise.all(workers);

    assert.deepEqual(failures.map(String), [], 'no request of an authenticated key failed');
    // An unknown key cannot be looked up while the database is away: 503 dependency_unavailable, never a 500.
    for (const r of refused) assert.deepEqual([r.status, r.body.error?.type, r.body.error?.code], [503, 'service_unavailable', 'dependency_unavailable'], JSON.stringify(r.body));
    const settled = [{ ok: true, usage: probe.usage, chunks: 0 }, ...seen].map((s) => settledCost(s, prompt));
    const want = { spend: sum(settled.map((s) => s.cost)), tokens: sum(settled.map((s) => s.tokens)), leases: 0 };
    const redis = new Redis(process.env.SWITCHYARD_REDIS_URL!);
    try {
      await eventually(async () => JSON.stringify(await quotaState(redis, tenant.orgId)) === JSON.stringify(want), 'the quota to be settled', 10_000).catch(async () => {
        assert.deepEqual(await quotaState(redis, tenant.orgId), want, 'every request settled exactly once');
      });
    } finally {
      redis.disconnect();
    }
  });
});
