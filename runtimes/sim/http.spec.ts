/**
 * The simulator over HTTP, as a separate process started with spawnSimPod: vLLM's wire format
 * (bodies checked against OpenAI's OpenAPI schemas), SSE framing, sampling options, tools, JSON
 * outputs, embeddings, metrics, errors and fault injection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { assertMatchesSchema } from '../../test/support/openai-schema.js';
import { spawnSimPod, type SimPod } from './spawn.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
let pod: SimPod;

before(async () => {
  pod = await spawnSimPod({ model: MODEL, profile: 'zero', args: ['--max-model-len', '4096', '--seed', '1', '--embedding-dim', '256'] });
});
after(async () => {
  await pod?.stop();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${pod.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function json(path: string, body: unknown, headers?: Record<string, string>): Promise<Json> {
  const res = await post(path, body, headers);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Json;
}

/** Reads a whole SSE response, checking the framing: `data: <payload>\n\n` events, `[DONE]` last. */
async function sse(res: Response): Promise<Json[]> {
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const text = await res.text();
  assert.ok(text.endsWith('data: [DONE]\n\n'), `stream ends with [DONE]: ${text.slice(-80)}`);
  const events = text.slice(0, -'data: [DONE]\n\n'.length).split('\n\n');
  assert.equal(events.pop(), '', 'every event ends with a blank line');
  return events.map((e) => {
    assert.ok(e.startsWith('data: ') && !e.includes('\n'), `one data line per event: ${e.slice(0, 80)}`);
    return JSON.parse(e.slice(6)) as Json;
  });
}

const hi = [{ role: 'user', content: 'Say something about rivers.' }];

describe('chat completions', () => {
  it('answers a non-stream request with an OpenAI chat.completion object and exact usage', async () => {
    const body = await json('/v1/chat/completions', { model: MODEL, messages: hi, max_tokens: 50 });
    assertMatchesSchema('CreateChatCompletionResponse', body);
    assert.match(body.id, /^chatcmpl-[0-9a-f]{32}$/);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, MODEL);
    const { usage, choices } = body;
    assert.equal(choices.length, 1);
    assert.equal(choices[0].message.role, 'assistant');
    assert.ok(choices[0].message.content.length > 0);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    const tokenized = await json('/tokenize', { messages: hi });
    assert.equal(usage.prompt_tokens, tokenized.count, 'prompt tokens are the rendered chat template');
    assert.deepEqual(usage.prompt_tokens_details, { cached_tokens: 0 });
  });

  it('streams chat.completion.chunk events: role first, one chunk per token, finish_reason last, then a usage chunk', async () => {
    const request = { model: MODEL, messages: hi, max_tokens: 200, seed: 7 };
    const whole = await json('/v1/chat/completions', request);
    const chunks = await sse(await post('/v1/chat/completions', { ...request, stream: true, stream_options: { include_usage: true } }));
    for (const chunk of chunks) assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
    const ids = new Set(chunks.map((c) => c.id));
    assert.equal(ids.size, 1);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === MODEL && typeof c.created === 'number'));
    assert.deepEqual(chunks[0].choices, [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    const usageChunk = chunks.at(-1) as Json;
    assert.deepEqual(usageChunk.choices, []);
    const content = chunks.slice(1, -1);
    assert.ok(content.every((c) => c.choices.length === 1 && typeof c.choices[0].delta.content === 'string'));
    assert.ok(content.slice(0, -1).every((c) => c.choices[0].finish_reason === null));
    assert.equal(content.at(-1)?.choices[0].finish_reason, whole.choices[0].finish_reason);
    assert.equal(content.length, usageChunk.usage.completion_tokens, 'one chunk per generated token');
    assert.equal(content.map((c) => c.choices[0].delta.content).join(''), whole.choices[0].message.content, 'same text as the non-stream answer');
    assert.deepEqual(usageChunk.usage, whole.usage);
  });

  it('omits the usage chunk unless include_usage is set', async () => {
    const chunks = await sse(await post('/v1/chat/completions', { messages: hi, max_tokens: 3, stream: true }));
    assert.equal(chunks.length, 4);
    assert.ok(chunks.every((c) => c.choices.length === 1 && c.usage === undefined));
  });

  it('streams n choices: a role chunk for each, then per-choice token chunks each ending with its finish_reason', async () => {
    const chunks = await sse(await post('/v1/chat/completions', { messages: hi, n: 2, max_tokens: 4, stream: true, logprobs: true, top_logprobs: 2 }));
    for (const chunk of chunks) assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
    assert.deepEqual(chunks.slice(0, 2).map((c) => [c.choices[0].index, c.choices[0].delta.role]), [[0, 'assistant'], [1, 'assistant']]);
    for (const index of [0, 1]) {
      const mine = chunks.slice(2).filter((c) => c.choices[0].index === index);
      assert.equal(mine.length, 4);
      assert.deepEqual(mine.map((c) => c.choices[0].finish_reason), [null, null, null, 'length']);
    }
  });

  it('returns n independent, deterministic choices; temperature 0 makes them identical', async () => {
    const a = await json('/v1/chat/completions', { messages: hi, n: 2, max_tokens: 30 });
    const b = await json('/v1/chat/completions', { messages: hi, n: 2, max_tokens: 30 });
    assert.deepEqual(a.choices.map((c: Json) => c.index), [0, 1]);
    assert.notEqual(a.choices[0].message.content, a.choices[1].message.content);
    assert.deepEqual(a.choices.map((c: Json) => c.message.content), b.choices.map((c: Json) => c.message.content));
    const greedy = await json('/v1/chat/completions', { messages: hi, n: 2, max_tokens: 30, temperature: 0, seed: 3 });
    const greedy2 = await json('/v1/chat/completions', { messages: hi, max_tokens: 30, temperature: 0, seed: 99 });
    assert.equal(greedy.choices[0].message.content, greedy.choices[1].message.content);
    assert.equal(greedy.choices[0].message.content, greedy2.choices[0].message.content, 'temperature 0 ignores the seed');
    const seeded = await json('/v1/chat/completions', { messages: hi, max_tokens: 30, seed: 5 });
    const seeded2 = await json('/v1/chat/completions', { messages: hi, max_tokens: 30, seed: 6 });
    assert.notEqual(seeded.choices[0].message.content, seeded2.choices[0].message.content);
    assert.equal(a.usage.completion_tokens, 60);
  });

  it('max_tokens ends the answer with finish_reason length after exactly that many tokens', async () => {
    const body = await json('/v1/chat/completions', { messages: hi, max_completion_tokens: 7 });
    assert.equal(body.choices[0].finish_reason, 'length');
    assert.equal(body.usage.completion_tokens, 7);
  });

  it('stops before a stop sequence with finish_reason stop and vLLM stop_reason', async () => {
    const full = await json('/v1/chat/completions', { messages: hi, max_tokens: 200, seed: 11 });
    const text: string = full.choices[0].message.content;
    const stop = ` ${text.split(' ')[5]}`;
    const cut = await json('/v1/chat/completions', { messages: hi, max_tokens: 200, seed: 11, stop: [stop] });
    assert.equal(cut.choices[0].finish_reason, 'stop');
    assert.equal(cut.choices[0].stop_reason, stop);
    assert.equal(cut.choices[0].message.content, text.slice(0, text.indexOf(stop)));
    assert.ok(cut.usage.completion_tokens < full.usage.completion_tokens);
  });

  it('returns chat logprobs with top_logprobs for every token', async () => {
    const body = await json('/v1/chat/completions', { messages: hi, max_tokens: 5, logprobs: true, top_logprobs: 3 });
    assertMatchesSchema('CreateChatCompletionResponse', body);
    const content = body.choices[0].logprobs.content as Json[];
    assert.equal(content.length, 5);
    assert.equal(content.map((t) => t.token).join(''), body.choices[0].message.content);
    for (const t of content) {
      assert.equal(t.top_logprobs.length, 3);
      assert.deepEqual(t.bytes, [...Buffer.from(t.token, 'utf8')]);
    }
  });

  it('reports cached prompt tokens when a long prompt is repeated', async () => {
    const long = [{ role: 'user', content: 'Tell me about the history of rivers and bridges. '.repeat(60) }];
    const first = await json('/v1/chat/completions', { messages: long, max_tokens: 2 });
    const second = await json('/v1/chat/completions', { messages: long, max_tokens: 2 });
    assert.equal(first.usage.prompt_tokens_details.cached_tokens, 0);
    const cached = second.usage.prompt_tokens_details.cached_tokens;
    assert.equal(cached, Math.floor((second.usage.prompt_tokens - 1) / 16) * 16);
  });
});

describe('tools and structured output', () => {
  const weather = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string', minLength: 2 },
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
          days: { type: 'integer', minimum: 1, maximum: 10 },
          hourly: { type: 'array', items: { type: 'object', properties: { hour: { type: 'integer', minimum: 0, maximum: 23 } }, required: ['hour'] } },
        },
        required: ['city', 'unit'],
        additionalProperties: false,
      },
    },
  };
  const validateArgs = new Ajv({ strict: false }).compile(weather.function.parameters);

  it('calls the tool with arguments that satisfy its JSON schema', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const body = await json('/v1/chat/completions', { messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weather], seed });
      assertMatchesSchema('CreateChatCompletionResponse', body);
      const choice = body.choices[0];
      assert.equal(choice.finish_reason, 'tool_calls');
      assert.equal(choice.message.content, null);
      const [call] = choice.message.tool_calls;
      assert.match(call.id, /^chatcmpl-tool-[0-9a-f]{32}$/);
      assert.equal(call.type, 'function');
      assert.equal(call.function.name, 'get_weather');
      const args = JSON.parse(call.function.arguments);
      assert.ok(validateArgs(args), JSON.stringify(validateArgs.errors));
    }
  });

  it('streams tool_calls deltas: id, type and name first, then argument fragments', async () => {
    const request = { messages: [{ role: 'user', content: 'Weather?' }], tools: [weather], tool_choice: 'required', seed: 9 };
    const whole = await json('/v1/chat/completions', request);
    const chunks = await sse(await post('/v1/chat/completions', { ...request, stream: true }));
    for (const chunk of chunks) assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
    const deltas = chunks.slice(1).map((c) => c.choices[0]);
    const calls = deltas.filter((d) => d.delta.tool_calls).map((d) => d.delta.tool_calls[0]);
    assert.deepEqual(Object.keys(calls[0]).sort(), ['function', 'id', 'index', 'type']);
    assert.equal(calls[0].function.name, 'get_weather');
    assert.ok(calls.slice(1).every((c) => c.index === 0 && c.id === undefined && typeof c.function.arguments === 'string'));
    assert.equal(calls.slice(1).map((c) => c.function.arguments).join(''), whole.choices[0].message.tool_calls[0].function.arguments);
    assert.equal(deltas.at(-1)?.finish_reason, 'tool_calls');
  });

  it('answers with text once the last message is a tool result, and with text for tool_choice none', async () => {
    const messages = [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}' },
    ];
    const body = await json('/v1/chat/completions', { messages, tools: [weather] });
    assert.equal(body.choices[0].finish_reason, 'stop');
    assert.ok(body.choices[0].message.content.length > 0);
    assert.deepEqual(body.choices[0].message.tool_calls, []);
    const none = await json('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], tools: [weather], tool_choice: 'none' });
    assert.equal(none.choices[0].message.tool_calls.length, 0);
  });

  it('rejects a named tool_choice that is not among the tools', async () => {
    const res = await post('/v1/chat/completions', { messages: hi, tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } });
    assert.equal(res.status, 400);
  });

  it('response_format json_schema yields a JSON document valid against the schema; json_object an object', async () => {
    const schema = {
      type: 'object',
      properties: { title: { type: 'string', maxLength: 30 }, year: { type: 'integer', minimum: 1900, maximum: 2030 }, tags: { type: 'array', items: { type: 'string' }, minItems: 1 } },
      required: ['title', 'year', 'tags'],
    };
    const validate = new Ajv({ strict: false }).compile(schema);
    const body = await json('/v1/chat/completions', { messages: hi, response_format: { type: 'json_schema', json_schema: { name: 'book', schema } } });
    assert.ok(validate(JSON.parse(body.choices[0].message.content)), body.choices[0].message.content);
    const obj = await json('/v1/chat/completions', { messages: hi, response_format: { type: 'json_object' } });
    const parsed = JSON.parse(obj.choices[0].message.content);
    assert.equal(typeof parsed, 'object');
    assert.ok(!Array.isArray(parsed));
  });
});

describe('completions and embeddings', () => {
  it('answers /v1/completions with text_completion objects, prompt-major choice indexes and completion logprobs', async () => {
    const body = await json('/v1/completions', { model: MODEL, prompt: ['Once upon a time', 'The river'], n: 2, max_tokens: 6, logprobs: 2 });
    assertMatchesSchema('CreateCompletionResponse', body);
    assert.match(body.id, /^cmpl-/);
    assert.deepEqual(body.choices.map((c: Json) => c.index), [0, 1, 2, 3]);
    assert.equal(body.usage.completion_tokens, 24);
    const lp = body.choices[0].logprobs;
    assert.equal(lp.tokens.join(''), body.choices[0].text);
    assert.equal(lp.text_offset[0], 0);
    assert.equal(Object.keys(lp.top_logprobs[0]).length, 2);
    const tokenized = await json('/tokenize', { prompt: 'Once upon a time' });
    assert.equal(tokenized.tokens[0], 128000, 'raw prompts get BOS');
  });

  it('embeds deterministically, L2-normalised, with the requested dimensions and base64 encoding', async () => {
    const a = await json('/v1/embeddings', { model: MODEL, input: ['alpha beta', 'gamma'] });
    assertMatchesSchema('CreateEmbeddingResponse', a);
    assert.equal(a.data.length, 2);
    const v = a.data[0].embedding as number[];
    assert.equal(v.length, 256);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
    const again = await json('/v1/embeddings', { input: 'alpha beta' });
    assert.deepEqual(again.data[0].embedding, v);
    assert.notDeepEqual(a.data[1].embedding, v);
    const ids = (await json('/tokenize', { prompt: 'alpha beta' })).tokens;
    assert.deepEqual((await json('/v1/embeddings', { input: ids })).data[0].embedding, v, 'token ids embed like their text');
    const b64 = await json('/v1/embeddings', { input: 'alpha beta', encoding_format: 'base64', dimensions: 64 });
    const buf = Buffer.from(b64.data[0].embedding, 'base64');
    const floats = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    assert.equal(floats.length, 64);
    assert.ok(Math.abs(Math.hypot(...floats) - 1) < 1e-5);
    assert.equal(a.usage.prompt_tokens, ids.length + (await json('/tokenize', { prompt: 'gamma' })).count);
  });
});

describe('KV cache pressure over HTTP', () => {
  it('preempts and recomputes when the KV pool is full, and every stream still delivers all its tokens', async () => {
    const small = await spawnSimPod({ model: MODEL, profile: 'zero', args: ['--kv-capacity-tokens', '2048', '--max-model-len', '1024'] });
    try {
      const streams = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const res = await fetch(`${small.baseUrl}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ messages: [{ role: 'user', content: `request ${i} `.repeat(40) }], max_tokens: 150, ignore_eos: true, stream: true, stream_options: { include_usage: true } }),
          });
          return sse(res);
        }),
      );
      for (const chunks of streams) {
        assert.equal(chunks.at(-1)?.usage.completion_tokens, 150);
        assert.equal(chunks.filter((c) => c.choices[0]?.delta.content !== undefined && c.choices[0].delta.role === undefined).length, 150);
      }
      const metrics = await (await fetch(`${small.baseUrl}/metrics`)).text();
      const preemptions = Number(/^vllm:num_preemptions_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1]);
      assert.ok(preemptions > 0, `preemptions: ${preemptions}`);
      assert.match(metrics, /^vllm:generation_tokens_total\{[^}]*\} 2400$/m);
    } finally {
      await small.stop();
    }
  });
});

describe('operational endpoints', () => {
  it('serves /health, /version, /v1/models and /detokenize like vLLM', async () => {
    const health = await fetch(`${pod.baseUrl}/health`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), '');
    assert.match(((await (await fetch(`${pod.baseUrl}/version`)).json()) as Json).version, /^\d+\.\d+\.\d+/);
    const models = (await (await fetch(`${pod.baseUrl}/v1/models`)).json()) as Json;
    assert.equal(models.object, 'list');
    const [card] = models.data;
    assert.equal(card.id, MODEL);
    assert.equal(card.object, 'model');
    assert.equal(card.owned_by, 'vllm');
    assert.equal(card.root, MODEL);
    assert.equal(card.parent, null);
    assert.equal(card.max_model_len, 4096);
    assert.equal(card.permission[0].object, 'model_permission');
    assert.deepEqual(await json('/detokenize', { tokens: [128000, 9906, 1917] }), { prompt: '<|begin_of_text|>Hello world' });
  });

  it('exports vLLM metric names with model_name and engine labels', async () => {
    await json('/v1/chat/completions', { messages: hi, max_tokens: 3 });
    const text = await (await fetch(`${pod.baseUrl}/metrics`)).text();
    for (const name of [
      'vllm:num_requests_running',
      'vllm:num_requests_waiting',
      'vllm:kv_cache_usage_perc',
      'vllm:prefix_cache_queries_total',
      'vllm:prefix_cache_hits_total',
      'vllm:num_preemptions_total',
      'vllm:prompt_tokens_total',
      'vllm:generation_tokens_total',
    ]) {
      assert.match(text, new RegExp(`^${name}\\{model_name="${MODEL}",engine="0"\\} \\d`, 'm'), name);
    }
    assert.match(text, /^vllm:request_success_total\{model_name="[^"]+",engine="0",finished_reason="length"\} [1-9]/m);
    for (const h of ['vllm:time_to_first_token_seconds', 'vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds', 'vllm:e2e_request_latency_seconds', 'vllm:request_queue_time_seconds']) {
      assert.match(text, new RegExp(`^# TYPE ${h} histogram`, 'm'));
      assert.match(text, new RegExp(`^${h}_count\\{model_name="[^"]+",engine="0"\\} [1-9]`, 'm'), `${h} observed`);
    }
    assert.match(text, /^vllm:cache_config_info\{.*block_size="16".*enable_prefix_caching="True".*num_gpu_blocks="\d+".*\} 1/m);
    assert.match(text, /^# TYPE vllm:generation_tokens_total counter/m);
  });
});

describe('errors', () => {
  const assertVllmError = async (res: Response, status: number, type: string) => {
    assert.equal(res.status, status);
    const body = (await res.json()) as Json;
    assert.deepEqual(Object.keys(body), ['error']);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.type, type);
    assert.equal(body.error.code, status);
    return body.error as Json;
  };

  it('answers malformed JSON with 400 BadRequestError', async () => {
    await assertVllmError(await post('/v1/chat/completions', '{"messages": ['), 400, 'BadRequestError');
  });

  it('answers a prompt longer than max_model_len with vLLM’s context-length message', async () => {
    const error = await assertVllmError(await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'word '.repeat(5000) }] }), 400, 'BadRequestError');
    assert.match(error.message, /^This model's maximum context length is 4096 tokens\. However, you requested 0 output tokens and your prompt contains at least 4097 input tokens/);
    assert.equal(error.param, 'input_tokens');
    const over = await assertVllmError(await post('/v1/chat/completions', { messages: hi, max_tokens: 4090 }), 400, 'BadRequestError');
    assert.match(over.message, /you requested 4090 output tokens/);
  });

  it('answers an unknown model with 404 NotFoundError and other violations with 400', async () => {
    const error = await assertVllmError(await post('/v1/chat/completions', { model: 'gpt-9', messages: hi }), 404, 'NotFoundError');
    assert.equal(error.message, 'The model `gpt-9` does not exist.');
    await assertVllmError(await post('/v1/chat/completions', { messages: hi, top_logprobs: 2 }), 400, 'BadRequestError');
    await assertVllmError(await post('/v1/chat/completions', { messages: hi, n: 0 }), 400, 'BadRequestError');
    await assertVllmError(await post('/v1/chat/completions', { messages: 'hi' }), 400, 'BadRequestError');
    assert.equal((await fetch(`${pod.baseUrl}/v2/nothing`)).status, 404);
  });
});

describe('fault injection', () => {
  it('x-sim-fault error=<status> answers that status in vLLM shape before any output', async () => {
    for (const status of [429, 503]) {
      const res = await post('/v1/chat/completions', { messages: hi, stream: true }, { 'x-sim-fault': `error=${status}` });
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as Json).error.code, status);
    }
  });

  it('error-after sends an SSE error event mid-stream, then [DONE]', async () => {
    const chunks = await sse(await post('/v1/chat/completions', { messages: hi, max_tokens: 50, stream: true }, { 'x-sim-fault': 'error-after=3' }));
    const last = chunks.at(-1) as Json;
    assert.equal(last.error.code, 500);
    assert.equal(last.error.type, 'InternalServerError');
    assert.equal(chunks.filter((c) => c.choices?.[0]?.delta?.content !== undefined).length, 4, 'role chunk + 3 tokens before the error');
  });

  it('stall holds the stream back for stall-ms after stall-after tokens', async () => {
    const res = await post('/v1/chat/completions', { messages: hi, max_tokens: 6, stream: true }, { 'x-sim-fault': 'stall-after=2,stall-ms=400' });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const times: number[] = [];
    let buffered = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        buffered = buffered.slice(end + 2);
        times.push(performance.now());
      }
    }
    // Events: role, t1, t2, (stall), t3 … t6, [DONE].
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(gaps[2] >= 380, `gap after the 2nd token ${gaps[2].toFixed(0)} ms`);
    assert.ok(Math.max(...gaps.slice(3)) < 200);
  });

  it('crash-after kills the process after that many tokens: the stream is cut without [DONE]', async () => {
    const victim = await spawnSimPod({ model: MODEL, profile: 'zero' });
    try {
      const res = await fetch(`${victim.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sim-fault': 'crash-after=5' },
        body: JSON.stringify({ messages: hi, max_tokens: 100, stream: true }),
      });
      assert.equal(res.status, 200);
      let text = '';
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await assert.rejects(async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) throw new Error('stream ended cleanly');
          text += new TextDecoder().decode(value);
        }
      }, /terminated|other side closed|socket|ECONNRESET/i);
      assert.equal(text.split('\n\n').filter((e) => e.includes('"content"')).length, 6, 'role chunk + 5 tokens arrived');
      assert.ok(!text.includes('[DONE]'));
      assert.equal(await victim.exited, null, 'killed by a signal');
    } finally {
      await victim.stop();
    }
  });

  it('spawnSimPod rejects with the reason when the process exits before listening', async () => {
    await assert.rejects(spawnSimPod({ model: MODEL, profile: 'no-such-profile' }), /exited with code 2 before listening[\s\S]*unknown profile "no-such-profile"/);
  });
});
