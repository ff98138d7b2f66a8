/**
 * Fault: a gateway replica SIGKILLed in the middle of streams. Two replicas run as their own processes
 * in front of two simulator pods, on the real PostgreSQL and Redis.
 *
 * What must hold: the killed replica's clients see their connection end (an error from the SDK, never
 * a hang); the other replica's streams complete and it keeps serving; the pods stop generating for the
 * dead replica's requests; and settlement (method: test/faults/support.ts) is exact for every request
 * a live replica finished. A replica that dies cannot settle what it admitted: those requests stay
 * charged at their reservation (prompt + max_tokens — over, never under, and once), and their
 * concurrency leases lapse after SWITCHYARD_QUOTA_LEASE_MS since nobody renews them. Charging what they
 * really used would need a durable usage record written before the response ends (the usage ledger).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { spawnSimPod, type SimPod } from '../../runtimes/sim/spawn.js';
import { eventually } from '../support/eventually.js';
import { createTenantOverApi, spawnGateway, type GatewayProcess } from '../support/gateway-process.js';
import { uniqueSuffix } from '../support/harness.js';
import { PRICES, cost, drain, podMetric, quotaState, settledCost, sum, type Seen } from './support.js';

const PROFILE = 'llama-3.1-70b-tp4-h100';
const SERVED = 'meta-llama/Llama-3.2-1B-Instruct';
const LEASE_MS = 2_000;
const MAX_TOKENS = 200;
const messages = [{ role: 'user' as const, content: 'Describe a rail yard at dawn.' }];

let pods: SimPod[];
let replicas: GatewayProcess[];
let redis: Redis;
const model = `m-${uniqueSuffix()}`;

before(async () => {
  pods = await Promise.all([0, 1].map(() => spawnSimPod({ model: SERVED, profile: PROFILE, startTimeoutMs: 120_000 })));
  const catalogue = {
    pools: [{ name: `static-${model}`, runtime: 'sim', provider: 'static', servedModel: SERVED, endpoints: pods.map((p) => p.baseUrl) }],
    models: [{ name: model, pool: `static-${model}`, contextWindow: 4096, tokenizer: 'llama3', inputPricePerMTok: PRICES.input, outputPricePerMTok: PRICES.output }],
  };
  const env = { SWITCHYARD_QUOTA_LEASE_MS: String(LEASE_MS), SWITCHYARD_ROUTING_POLICY: 'round-robin' };
  replicas = await Promise.all([0, 1].map(() => spawnGateway(catalogue, env)));
  redis = new Redis(process.env.SWITCHYARD_REDIS_URL!);
});
after(async () => {
  redis?.disconnect();
  await Promise.all((replicas ?? []).map((r) => r.stop()));
  await Promise.all((pods ?? []).map((p) => p.stop()));
});

describe('a gateway replica SIGKILLed mid-stream', () => {
  it("ends its clients' streams at once, while the other replica finishes its own and keeps serving; the pods stop generating for the dead one", async () => {
    const [doomed, survivor] = replicas as [GatewayProcess, GatewayProcess];
    const tenant = await createTenantOverApi(survivor.url);
    const client = (gw: GatewayProcess) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: tenant.apiKey, maxRetries: 0, timeout: 60_000 });
    const probe = await client(survivor).chat.completions.create({ model, messages, max_tokens: 1 });
    const prompt = probe.usage!.prompt_tokens;

    const body = { model, messages, max_tokens: MAX_TOKENS, ignore_eos: true, stream: true, stream_options: { include_usage: true } };
    const progress: number[] = [];
    const on = (gw: GatewayProcess) => client(gw).chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
    const streams = await Promise.all([on(doomed), on(doomed), on(doomed), on(survivor), on(survivor), on(survivor)]);
    const work = streams.map((s, i) => drain(s, (n) => (progress[i] = n)));
    await eventually(() => streams.every((_, i) => (progress[i] ?? 0) >= 3), 'every stream to be under way', 15_000);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const seen = await Promise.all(work);

    const [lost, kept] = [seen.slice(0, 3), seen.slice(3)];
    for (const s of lost) {
      assert.equal(s.ok, false, 'a stream of the killed replica cannot complete');
      assert.ok(s.error instanceof Error, `the client is told its stream ended: ${String(s.error)}`);
      assert.ok(s.chunks < MAX_TOKENS + 1);
    }
    for (const s of kept) assert.equal(s.usage?.completion_tokens, MAX_TOKENS, `the live replica's stream completed: ${String(s.error)}`);
    // The survivor still serves; the pods are left generating nothing for the dead replica.
    const after = await client(survivor).chat.completions.create({ model, messages, max_tokens: 2 });
    assert.equal(after.choices.length, 1);
    await eventually(async () => (await Promise.all(pods.map((p) => podMetric(p.baseUrl, 'vllm:num_requests_running')))).every((n) => n === 0), 'the pods to stop generating', 10_000);

    // Settled exactly: everything the survivor finished; the killed replica's three streams stay
    // charged at their reservation; their leases lapse once unrenewed.
    const finished: Seen[] = [{ ok: true, usage: probe.usage, chunks: 0 }, ...kept, { ok: true, usage: after.usage, chunks: 0 }];
    const settled = finished.map((s) => settledCost(s, prompt));
    const want = {
      spend: sum(settled.map((s) => s.cost)) + lost.length * cost(prompt, MAX_TOKENS),
      tokens: sum(settled.map((s) => s.tokens)) + lost.length * (prompt + MAX_TOKENS),
      leases: 0,
    };
    await eventually(async () => (await quotaState(redis, tenant.orgId)).leases === 0, 'the dead replica’s leases to lapse', LEASE_MS * 5);
    assert.deepEqual(await quotaState(redis, tenant.orgId), want);
  });
});
