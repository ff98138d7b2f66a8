/**
 * Fault: a simulator pod SIGKILLed under load, before its first byte and in the middle of streams.
 * Two gateway replicas share three pods (a static pool, round-robin so every pod carries traffic) and
 * the real PostgreSQL and Redis. For each fault: what the client sees (a success, or OpenAI's error
 * object as a terminal stream event — never a hang), that both replicas keep serving, and that every
 * admitted request is settled exactly once (method: test/faults/support.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { spawnSimPod, type SimPod } from '../../runtimes/sim/spawn.js';
import { eventually } from '../support/eventually.js';
import { bootGateways, createTenant, staticCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { assertMatchesSchema } from '../support/openai-schema.js';
import { PRICES, drain, podMetric, quotaState, settledCost, sum, type Seen } from './support.js';

// ~17 ms per decode step: a 150-token answer takes a few seconds, long enough to kill a pod under it.
const PROFILE = 'llama-3.1-70b-tp4-h100';
const MODEL = 'meta-llama/Llama-3.2-1B-Instruct';
const messages = [{ role: 'user' as const, content: 'Describe a rail yard at dawn.' }];

let pods: SimPod[];
let replicas: TestGateway[];
let redis: Redis;
let model: string;

before(async () => {
  pods = await Promise.all([0, 1, 2].map(() => spawnSimPod({ model: MODEL, profile: PROFILE, startTimeoutMs: 120_000 })));
  const suffix = uniqueSuffix();
  const catalogue = staticCatalogue(suffix, pods.map((p) => p.baseUrl), { prices: PRICES });
  // x-sim-fault (a delay before the first byte) reaches the pods only with fault injection on.
  replicas = await bootGateways(2, catalogue, { SWITCHYARD_ROUTING_POLICY: 'round-robin', SWITCHYARD_SIM_FAULT_INJECTION: 'true' });
  model = `m-${suffix}`;
  redis = new Redis(process.env.SWITCHYARD_REDIS_URL!);
});
after(async () => {
  redis?.disconnect();
  await Promise.all((replicas ?? []).map((r) => r.close()));
  await Promise.all((pods ?? []).map((p) => p.stop()));
});

function clientOf(gw: TestGateway, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });
}

/** The prompt's token count as the runtime reports it (every request of a test sends the same one). */
async function promptTokens(client: OpenAI): Promise<{ tokens: number; seen: Seen }> {
  const res = await client.chat.completions.create({ model, messages, max_tokens: 1 });
  return { tokens: res.usage!.prompt_tokens, seen: { ok: true, usage: res.usage, chunks: 0 } };
}

/** Both replicas still answer (one request each); what they answered, for the settlement check. */
async function stillServes(clients: OpenAI[]): Promise<Seen[]> {
  const seen: Seen[] = [];
  for (const c of clients) {
    const res = await c.chat.completions.create({ model, messages, max_tokens: 2 });
    assertMatchesSchema('CreateChatCompletionResponse', res);
    seen.push({ ok: true, usage: res.usage, chunks: 0 });
  }
  return seen;
}

async function expectSettled(orgId: string, seen: Seen[], prompt: number): Promise<void> {
  const expected = seen.map((s) => settledCost(s, prompt));
  const want = { spend: sum(expected.map((e) => e.cost)), tokens: sum(expected.map((e) => e.tokens)), leases: 0 };
  // Settles leave the gateway asynchronously after the response: wait for them, then compare exactly.
  await eventually(async () => JSON.stringify(await quotaState(redis, orgId)) === JSON.stringify(want), 'the quota to be settled', 10_000).catch(async () => {
    assert.deepEqual(await quotaState(redis, orgId), want, 'every admitted request settled exactly once');
  });
}

describe('a pod SIGKILLed under load', () => {
  it('before its first byte: the requests on it are retried on another pod and succeed; usage is settled once', async () => {
    const tenant = await createTenant(replicas[0]!.gateway, { tier: 'enterprise' });
    const clients = replicas.map((r) => clientOf(r, tenant.apiKey));
    const first = await promptTokens(clients[0]!);
    const victim = pods[0]!;
    // Non-streamed answers send nothing until they are complete; streams held 2.5 s before the engine
    // (x-sim-fault delay) send nothing either: whatever is on the victim when it dies has no first byte.
    const work = Array.from({ length: 9 }, (_, i) => {
      const client = clients[i % 2]!;
      if (i % 3 === 2) {
        const body = { model, messages, max_tokens: 40, ignore_eos: true, stream: true, stream_options: { include_usage: true } };
        return client.chat.completions
          .create(body as OpenAI.Chat.ChatCompletionCreateParamsStreaming, { headers: { 'x-sim-fault': 'delay-ms=2500' } })
          .then((s) => drain(s), (error: unknown): Seen => ({ ok: false, chunks: 0, error }));
      }
      return client.chat.completions.create({ model, messages, max_tokens: 150, ignore_eos: true } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming).then(
        (res): Seen => (assertMatchesSchema('CreateChatCompletionResponse', res), { ok: true, usage: res.usage, chunks: 0 }),
        (error: unknown): Seen => ({ ok: false, chunks: 0, error }),
      );
    });
    await eventually(async () => (await podMetric(victim.baseUrl, 'vllm:num_requests_running')) >= 1, 'the victim pod to be generating', 15_000);
    victim.child.kill('SIGKILL');
    const seen = await Promise.all(work);
    for (const s of seen) assert.equal(s.ok, true, `a request on the killed pod failed instead of being retried: ${String(s.error)}`);
    for (const s of seen) assert.equal(s.usage!.completion_tokens, s.chunks ? 40 : 150);
    const still = await stillServes(clients);
    await expectSettled(tenant.orgId, [first.seen, ...seen, ...still], first.tokens);
  });

  it('mid-stream: its streams end with an OpenAI error event, the others complete; usage is settled once', async () => {
    const tenant = await createTenant(replicas[0]!.gateway, { tier: 'enterprise' });
    const clients = replicas.map((r) => clientOf(r, tenant.apiKey));
    const first = await promptTokens(clients[0]!);
    const victim = pods[1]!;
    const body = { model, messages, max_tokens: 200, ignore_eos: true, stream: true, stream_options: { include_usage: true } };
    const progress: number[] = [];
    const streams = await Promise.all(Array.from({ length: 6 }, (_, i) => clients[i % 2]!.chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsStreaming)));
    const work = streams.map((s, i) => drain(s, (n) => (progress[i] = n)));
    // Every stream has started (its first chunks reached the client), so the kill is mid-stream.
    await eventually(() => streams.every((_, i) => (progress[i] ?? 0) >= 3), 'every stream to be under way', 15_000);
    const running = await podMetric(victim.baseUrl, 'vllm:num_requests_running');
    victim.child.kill('SIGKILL');
    const seen = await Promise.all(work);

    const cut = seen.filter((s) => !s.ok);
    assert.ok(running >= 1, 'the victim pod was serving some of the streams');
    assert.equal(cut.length, running, 'exactly the streams on the killed pod were cut');
    for (const s of cut) {
      assert.ok(s.error instanceof OpenAI.APIError, `a cut stream ends with OpenAI's error event, got ${String(s.error)}`);
      assert.equal(s.error.type, 'server_error');
      assert.ok(['upstream_stream_interrupted', 'upstream_error'].includes(String(s.error.code)), `code ${s.error.code}`);
      assert.ok(s.chunks >= 3 && s.chunks < 201);
    }
    for (const s of seen.filter((x) => x.ok)) assert.equal(s.usage!.completion_tokens, 200);
    const still = await stillServes(clients);
    await expectSettled(tenant.orgId, [first.seen, ...seen, ...still], first.tokens);
  });
});
