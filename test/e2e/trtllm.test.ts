/**
 * End to end through the TensorRT-LLM adapter: the gateway serves a `trtllm` pool whose pods are
 * simulators speaking as trtllm-serve (`--flavor trtllm`: its paths, flat error bodies, validation
 * errors, aborted streams and both metrics exporters), with the official openai SDK as the client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { parseCatalogue } from '../../src/config/index.js';
import { spawnSimPod, type SimPod } from '../../runtimes/sim/spawn.js';
import { eventually, sample } from '../support/eventually.js';
import { SIM_PROFILE, bootGateway, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { assertMatchesSchema } from '../support/openai-schema.js';

const SERVED = 'meta-llama/Llama-3.2-1B-Instruct';
const suffix = uniqueSuffix();
const POOL = `trt-${suffix}`;
const MODEL = `trt-${suffix}`;
const BROKEN = `trt-broken-${suffix}`;
let gw: TestGateway;

before(async () => {
  // The simulator's command spelled out (rather than `sim:`) for a start-up timeout that holds on a
  // busy shared machine.
  const main = fileURLToPath(new URL('../../runtimes/sim/main.js', import.meta.url));
  const trtllm = (args: string[]) => ({
    command: [process.execPath, main, '--flavor', 'trtllm', '--model', '{model}', '--profile', SIM_PROFILE, '--host', '{host}', '--port', '{port}', ...args],
    startTimeoutMs: 180_000,
  });
  gw = await bootGateway(
    parseCatalogue(
      {
        pools: [
          // The catalogue's context window is larger than the pods' max_seq_len, so a long prompt
          // passes the gateway's own check and the runtime's refusal is what the client sees.
          { name: POOL, runtime: 'trtllm', provider: 'local', servedModel: SERVED, replicas: 1, local: trtllm(['--max-model-len', '1024']) },
          { name: BROKEN, runtime: 'trtllm', provider: 'local', servedModel: SERVED, replicas: 1, local: trtllm(['--fault-error-after-tokens', '3']) },
        ],
        models: [
          { name: MODEL, pool: POOL, contextWindow: 4096, tokenizer: 'llama3' },
          { name: BROKEN, pool: BROKEN, contextWindow: 4096, tokenizer: 'llama3' },
        ],
      },
      'trtllm test catalogue',
    ),
  );
});
after(async () => {
  await gw?.close();
});

describe('a trtllm pool (simulated trtllm-serve pods)', () => {
  it('serves chat completions, streamed and not, with usage', async () => {
    const res = await gw.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Name a rail yard.' }],
      max_tokens: 8,
      // Fields trtllm-serve's request models would refuse: the adapter drops them.
      service_tier: 'default',
      store: false,
      metadata: { test: 'trtllm' },
    });
    assertMatchesSchema('CreateChatCompletionResponse', res);
    assert.equal(res.model, MODEL);
    assert.ok(res.usage!.completion_tokens >= 1 && res.usage!.prompt_tokens > 5);

    const stream = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 20, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(text.length > 0);
    assert.ok(usage && usage.completion_tokens >= 1);
  });

  it('serves legacy completions', async () => {
    const res = await gw.client.completions.create({ model: MODEL, prompt: 'The yard', max_tokens: 4 });
    assertMatchesSchema('CreateCompletionResponse', res);
    assert.equal(res.usage!.completion_tokens, 4);
  });

  it('turns trtllm-serve\'s max_seq_len refusal (flat error body) into 400 context_length_exceeded', async () => {
    const long = 'rail yard switch '.repeat(400); // ≈ 1,200 tokens: over the pods' 1,024, under the catalogue's 4,096
    const err = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: long }], max_tokens: 16 }).then(
      () => assert.fail('expected a 400'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'context_length_exceeded');
    assert.equal((err.error as { type?: string }).type, 'invalid_request_error');
    assert.match(err.message, /max_seq_len \(1024\)/);
  });

  it('reports a stream that trtllm-serve aborts mid-way as a terminal error event, after the tokens it relayed', async () => {
    const stream = await gw.client.chat.completions.create({ model: BROKEN, messages: [{ role: 'user', content: 'hi' }], max_tokens: 50, stream: true });
    let chunks = 0;
    const err = await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) chunks++;
    })().then(
      () => assert.fail('expected the stream to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal((err as InstanceType<typeof OpenAI.APIError>).code, 'upstream_stream_interrupted');
    assert.ok(chunks >= 1, 'the tokens produced before the abort reached the client');
  });

  it('reads the pods\' load from trtllm-serve\'s Prometheus exporter', async () => {
    await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Count the wagons on track seven, please.' }], max_tokens: 4 });
    // The pool's prefix-cache counters come only from scraping trtllm_prompt_tokens_total.
    await eventually(async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      return sample(text, 'switchyard_pool_prefix_cache_queries_total', { pool: POOL }) > 0;
    }, 'the gateway to scrape trtllm_prompt_tokens_total');
  });
});

describe('the simulator with --flavor trtllm', () => {
  let pod: SimPod;
  before(async () => {
    pod = await spawnSimPod({ model: SERVED, profile: 'zero', args: ['--flavor', 'trtllm'], startTimeoutMs: 180_000 });
  });
  after(async () => {
    await pod?.stop();
  });
  const post = (path: string, body: string) => fetch(`${pod.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('answers trtllm-serve\'s error bodies: validation {"error": text}, others flat', async () => {
    const invalid = await post('/v1/chat/completions', '{"model": "x", "messages": [');
    assert.equal(invalid.status, 400);
    const body = (await invalid.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['error']);
    assert.equal(typeof body.error, 'string');

    // Its request models forbid fields they do not declare (what the adapter drops before sending).
    const extra = await post('/v1/chat/completions', JSON.stringify({ model: SERVED, messages: [{ role: 'user', content: 'hi' }], store: false, service_tier: 'auto' }));
    assert.equal(extra.status, 400);
    const extraBody = (await extra.json()) as { error: string };
    assert.match(extraBody.error, /^2 validation errors for ChatCompletionRequest\nstore\n  Extra inputs are not permitted/);
    const options = await post('/v1/completions', JSON.stringify({ model: SERVED, prompt: 'x', stream_options: { include_usage: true } }));
    assert.equal(options.status, 400);
    assert.match(((await options.json()) as { error: string }).error, /Stream options can only be defined when stream is true/);

    const unknownModel = await post('/v1/chat/completions', JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }));
    assert.equal(unknownModel.status, 404);
    assert.deepEqual(Object.keys((await unknownModel.json()) as object).sort(), ['code', 'message', 'object', 'param', 'type']);
  });

  it('has no embeddings or tokenize routes, and both metrics exporters', async () => {
    assert.equal((await post('/v1/embeddings', JSON.stringify({ model: SERVED, input: 'x' }))).status, 404);
    assert.equal((await post('/tokenize', JSON.stringify({ model: SERVED, prompt: 'x' }))).status, 404);
    const prometheus = await (await fetch(`${pod.baseUrl}/prometheus/metrics`)).text();
    assert.match(prometheus, /^trtllm_kv_cache_max_blocks\{model_name="undefined",engine_type="undefined"\} \d+/m);
    assert.doesNotMatch(prometheus, /vllm:/);
    // The JSON exporter drains: one entry after work, then [] until the engine steps again.
    await (await post('/v1/completions', JSON.stringify({ model: SERVED, prompt: 'hi', max_tokens: 2 }))).text();
    const stats = (await (await fetch(`${pod.baseUrl}/metrics`)).json()) as Array<{ kvCacheStats: { tokensPerBlock: number; maxNumBlocks: number } }>;
    assert.equal(stats.length, 1);
    assert.equal(stats[0]!.kvCacheStats.tokensPerBlock, 16);
    assert.ok(stats[0]!.kvCacheStats.maxNumBlocks > 0);
    assert.deepEqual(await (await fetch(`${pod.baseUrl}/metrics`)).json(), []);
  });
});
