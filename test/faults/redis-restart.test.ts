/**
 * Fault: Redis restarted under load. Two gateway replicas use a redis-server of this suite's own
 * (test/support/private-redis.ts, an fsynced AOF so a restart keeps what was acknowledged) and the
 * shared PostgreSQL; eight clients keep sending streamed and non-streamed requests to both while Redis
 * stops (SIGTERM) and comes back.
 *
 * What must hold: every request ends in a success or OpenAI's error object — while Redis is away the
 * quota stage cannot check a spend budget and refuses with 503 quota_unavailable and retry-after (the
 * tenant's tier has budgets; SWITCHYARD_QUOTA_FAIL_MODE_SPEND=closed) — never a 500 or a hang; both
 * replicas serve again once Redis is back, without a restart of their own; and every admitted request
 * is settled exactly once (method: test/faults/support.ts), including those admitted before the outage
 * that finished during it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { spawnSimPod, type SimPod } from '../../runtimes/sim/spawn.js';
import { eventually } from '../support/eventually.js';
import { bootGateway, createTenant, staticCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { PRICES, drain, quotaState, settledCost, sum, type Seen } from './support.js';

const PROFILE = 'llama-3.1-70b-tp4-h100';
const SERVED = 'meta-llama/Llama-3.2-1B-Instruct';
const messages = [{ role: 'user' as const, content: 'Describe a rail yard at dawn.' }];
// The answer ends on its own well before this (126 tokens): a settlement lost to the outage would leave
// the larger reservation in the counters, where the comparison sees it.
const MAX_TOKENS = 200;

let pods: SimPod[];
let replicas: TestGateway[];
let privateRedis: PrivateRedis;
let model: string;

before(async () => {
  privateRedis = await startPrivateRedis();
  pods = await Promise.all([0, 1].map(() => spawnSimPod({ model: SERVED, profile: PROFILE, startTimeoutMs: 120_000 })));
  const suffix = uniqueSuffix();
  const catalogue = staticCatalogue(suffix, pods.map((p) => p.baseUrl), { prices: PRICES });
  replicas = await Promise.all([0, 1].map(() => bootGateway(catalogue, { SWITCHYARD_REDIS_URL: privateRedis.url, SWITCHYARD_ROUTING_POLICY: 'round-robin' })));
  model = `m-${suffix}`;
});
after(async () => {
  await Promise.all((replicas ?? []).map((r) => r.close()));
  await Promise.all((pods ?? []).map((p) => p.stop()));
  await privateRedis?.destroy();
});

interface Outcome {
  replica: number;
  began?: number;
  seen?: Seen;
  refused?: InstanceType<typeof OpenAI.APIError>;
  other?: unknown;
}

describe('Redis restarted under load', () => {
  it('refuses with 503 quota_unavailable while it is away, serves again after, and settles every admitted request once', async () => {
    const tenant = await createTenant(replicas[0]!.gateway, { tier: 'standard' });
    const clients = replicas.map((r) => new OpenAI({ baseURL: `${r.url}/v1`, apiKey: tenant.apiKey, maxRetries: 0, timeout: 30_000 }));
    const probe = await clients[0]!.chat.completions.create({ model, messages, max_tokens: 1 });
    const prompt = probe.usage!.prompt_tokens;

    const outcomes: Outcome[] = [];
    let running = true;
    const one = async (i: number): Promise<Outcome> => {
      const replica = i % 2;
      const client = clients[replica]!;
      try {
        if (i % 3 === 0) {
          const res = await client.chat.completions.create({ model, messages, max_tokens: MAX_TOKENS });
          return { replica, seen: { ok: true, usage: res.usage, chunks: 0 } };
        }
        const body = { model, messages, max_tokens: MAX_TOKENS, stream: true, stream_options: { include_usage: true } };
        return { replica, seen: await drain(await client.chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsStreaming)) };
      } catch (err) {
        return err instanceof OpenAI.APIError && err.status !== undefined ? { replica, refused: err } : { replica, other: err };
      }
    };
    const retryAfterMs = (err: InstanceType<typeof OpenAI.APIError>) => Math.min(2_000, Number(err.headers?.get('retry-after-ms') ?? Number(err.headers?.get('retry-after') ?? 1) * 1000) || 1_000);
    let begun = 0;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; running; i += 8) {
        const began = performance.now();
        begun++;
        const outcome = await one(i);
        outcomes.push({ ...outcome, began });
        // A refused client waits as told, as the SDKs do: hammering a replica during the outage would
        // only trip its in-process rate gate (429), which is not what this test is about.
        if (outcome.refused) await new Promise((resolve) => setTimeout(resolve, retryAfterMs(outcome.refused!)));
      }
    });
    const servedSince = (from: number, replica: number) => outcomes.slice(from).some((o) => o.replica === replica && o.seen?.ok);

    await eventually(() => servedSince(0, 0) && servedSince(0, 1), 'both replicas to serve under load', 20_000);
    await privateRedis.stop('SIGTERM');
    const [down, stoppedAt, inFlight] = [outcomes.length, performance.now(), begun];
    // Redis stays away until a request has met the outage and every request admitted before it has
    // finished: their settlements are all due while Redis is down.
    await eventually(() => outcomes.slice(down).some((o) => o.refused), 'a request to meet the outage', 20_000);
    await eventually(() => outcomes.filter((o) => o.began! < stoppedAt).length === inFlight, 'the requests admitted before the outage to finish', 20_000);
    assert.ok(outcomes.slice(down).filter((o) => o.began! < stoppedAt && o.seen?.ok).length > 0, 'some admitted requests finished during the outage');
    await privateRedis.start();
    const up = outcomes.length;
    await eventually(() => servedSince(up, 0) && servedSince(up, 1), 'both replicas to serve again', 30_000);
    running = false;
    await Promise.all(workers);

    const others = outcomes.filter((o) => o.other);
    assert.deepEqual(others.map((o) => String(o.other)), [], 'every request ended in a success or an OpenAI error');
    for (const o of outcomes.filter((x) => x.refused)) {
      assert.deepEqual([o.refused!.status, o.refused!.type, o.refused!.code], [503, 'service_unavailable', 'quota_unavailable'], o.refused!.message);
      assert.ok(Number(o.refused!.headers?.get('retry-after')) >= 1);
    }
    const seen = outcomes.filter((o) => o.seen).map((o) => o.seen!);
    for (const s of seen) assert.ok(s.ok, `an admitted stream was cut: ${String(s.error)}`);
    const settled = [{ ok: true, usage: probe.usage, chunks: 0 }, ...seen].map((s) => settledCost(s, prompt));
    const want = { spend: sum(settled.map((s) => s.cost)), tokens: sum(settled.map((s) => s.tokens)), leases: 0 };
    const redis = new Redis(privateRedis.url);
    try {
      await eventually(async () => JSON.stringify(await quotaState(redis, tenant.orgId)) === JSON.stringify(want), 'the quota to be settled', 10_000).catch(async () => {
        assert.deepEqual(await quotaState(redis, tenant.orgId), want, `every admitted request settled exactly once (${seen.length} served, ${outcomes.length - seen.length} refused)`);
      });
    } finally {
      redis.disconnect();
    }
  });
});
