/**
 * The scheduler's prefix-affinity table is what the gateway sent, not what the pods still hold. When a
 * pod evicts prefixes the table still believes in, the runtime's own answer (usage.prompt_tokens_details
 * .cached_tokens) says so, and the scheduler counts table matches at the confirmed share from then on
 * (switchyard_routing_prefix_hit_ratio). Here one simulator pod with a KV cache smaller than two of the
 * prompts: alternating them makes each evict the other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uniqueSuffix, type TestGateway } from '../support/harness.js';
import { FAST, boot, catalogue, chat, eventually, gatewayMetrics, metric, startPods, type SimPod } from './support.js';

/** A ~3300-token text of distinct words, different per seed. */
function document(seed: string): string {
  return Array.from({ length: 1500 }, (_, i) => `${seed}${i}`).join(' ');
}

describe('prefix-cache hits learned from the runtime', () => {
  let pod: SimPod;
  let gw: TestGateway;
  let model: string;
  let pool: string;

  before(async () => {
    // 4096 tokens of KV cache: one of the prompts below fits, two do not.
    [pod] = await startPods(1, FAST, undefined, ['--kv-capacity-tokens', '4096', '--max-model-len', '4096']);
    const suffix = uniqueSuffix();
    model = `m-${suffix}`;
    pool = `learn-${suffix}`;
    gw = await boot(catalogue([{ name: pool, endpoints: [pod.baseUrl] }], [{ name: model, pool }]));
  });
  after(async () => {
    await gw?.close();
    await pod?.stop();
  });

  const ask = async (doc: string, question: string) => {
    const reply = await chat(gw, gw.apiKey, { model, messages: [{ role: 'system', content: doc }, { role: 'user', content: question }], max_tokens: 4 });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return reply.body as { usage: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } };
  };
  const ratio = async () => metric(await gatewayMetrics(gw), 'switchyard_routing_prefix_hit_ratio', { pool });

  it('trusts the table while the pod confirms its matches, and discounts it once the pod evicts', async () => {
    const a = document('alpha');
    const b = document('beta');
    const first = await ask(a, 'one');
    assert.ok(first.usage.prompt_tokens > 2_500 && first.usage.prompt_tokens < 3_900, `prompt ${first.usage.prompt_tokens} tokens`);
    const again = await ask(a, 'two');
    assert.ok((again.usage.prompt_tokens_details?.cached_tokens ?? 0) > 2_000, 'the pod holds the document');
    // (The ratio starts at 1: this only shows that confirmed matches do not lower it; the misses below
    // show that it learns.)
    await eventually(async () => (await ratio()) > 0.95, 2_000, 'a confirmed match keeps the ratio near 1');

    // Each document now evicts the other: the table still matches, the runtime reports (almost) no hit.
    let cached = 0;
    for (let i = 0; i < 6; i++) {
      const reply = await ask(i % 2 === 0 ? b : a, `turn ${i}`);
      cached += reply.usage.prompt_tokens_details?.cached_tokens ?? 0;
    }
    assert.ok(cached < 6 * 1_200, `the pod evicted (cached ${cached} tokens over 6 requests)`);
    await eventually(async () => (await ratio()) < 0.7, 2_000, 'the ratio to fall with the misses');
  });
});
