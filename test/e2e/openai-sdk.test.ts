/**
 * End to end: the official openai SDK against a real gateway with simulator pods. Every response body
 * and stream chunk is checked against OpenAI's published schemas.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { bootGateway, type TestGateway } from '../support/harness.js';
import { assertMatchesSchema } from '../support/openai-schema.js';

let gw: TestGateway;

before(async () => {
  // One test kills a pod through the simulator's fault-injection header (off by default).
  gw = await bootGateway(undefined, { SWITCHYARD_SIM_FAULT_INJECTION: 'true' });
});
after(async () => {
  await gw?.close();
});

async function collectStream(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
    chunks.push(chunk);
  }
  return chunks;
}

describe('models', () => {
  it('lists the catalogue, aliases included, in OpenAI shape', async () => {
    const page = await gw.client.models.list();
    const ids = page.data.map((m) => m.id);
    assert.ok(ids.includes(gw.names.chat) && ids.includes(gw.names.alias) && ids.includes(gw.names.embed), ids.join(','));
    const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${gw.apiKey}` } });
    assertMatchesSchema('ListModelsResponse', await res.json());
    const one = await gw.client.models.retrieve(gw.names.alias);
    assertMatchesSchema('Model', one);
    assert.equal(one.id, gw.names.alias);
  });
});

describe('chat completions', () => {
  it('answers a non-streaming request with the model name the client used', async () => {
    const res = await gw.client.chat.completions.create({ model: gw.names.alias, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 20 });
    assertMatchesSchema('CreateChatCompletionResponse', res);
    assert.equal(res.model, gw.names.alias);
    assert.equal(res.choices.length, 1);
    assert.ok(res.choices[0]!.message.content!.length > 0);
    assert.ok(res.usage!.prompt_tokens > 5 && res.usage!.completion_tokens <= 20);
  });

  it('streams chunks in OpenAI framing without a usage chunk unless asked', async () => {
    const stream = await gw.client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'Count.' }], max_tokens: 12, stream: true });
    const chunks = await collectStream(stream);
    assert.ok(chunks.length >= 3);
    assert.ok(chunks.every((c) => c.model === gw.names.chat && !('usage' in c && c.usage)));
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.ok(text.length > 0);
  });

  it('returns the usage chunk last when stream_options.include_usage is set', async () => {
    const stream = await gw.client.chat.completions.create({
      model: gw.names.chat,
      messages: [{ role: 'user', content: 'Count.' }],
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collectStream(stream);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage!.completion_tokens, 8);
    assert.equal(last.usage!.total_tokens, last.usage!.prompt_tokens + 8);
  });

  it('returns n choices, streaming and not', async () => {
    const res = await gw.client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'Hi' }], n: 3, max_tokens: 5 });
    assertMatchesSchema('CreateChatCompletionResponse', res);
    assert.deepEqual(res.choices.map((c) => c.index), [0, 1, 2]);
    const stream = await gw.client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'Hi' }], n: 2, max_tokens: 5, stream: true });
    const chunks = await collectStream(stream);
    assert.deepEqual([...new Set(chunks.flatMap((c) => c.choices.map((x) => x.index)))].sort(), [0, 1]);
  });

  it('honours stop sequences', async () => {
    const base = { model: gw.names.chat, messages: [{ role: 'user' as const, content: 'Tell me a story.' }], seed: 7, max_tokens: 40 };
    const full = (await gw.client.chat.completions.create(base)).choices[0]!.message.content!;
    const words = full.split(/\s+/).filter((w) => w.length > 3);
    const stopWord = words[Math.min(3, words.length - 1)]!;
    const res = await gw.client.chat.completions.create({ ...base, stop: [stopWord] });
    const content = res.choices[0]!.message.content!;
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.ok(!content.includes(stopWord), `${JSON.stringify(content)} contains ${stopWord}`);
    assert.ok(full.startsWith(content), 'stopped output is a prefix of the full output');
  });

  it('calls a tool with arguments valid for its schema, streamed as tool_calls deltas', async () => {
    const parameters = {
      type: 'object',
      properties: { city: { type: 'string', minLength: 2 }, unit: { type: 'string', enum: ['c', 'f'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city', 'unit', 'days'],
      additionalProperties: false,
    };
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'Weather forecast', parameters } }];
    const messages = [{ role: 'user' as const, content: 'Weather in Paris?' }];
    const res = await gw.client.chat.completions.create({ model: gw.names.chat, messages, tools, tool_choice: 'required' });
    assertMatchesSchema('CreateChatCompletionResponse', res);
    const call = res.choices[0]!.message.tool_calls![0]!;
    assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(call.type, 'function');
    assert.equal((call as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall).function.name, 'get_weather');
    const validate = new Ajv().compile(parameters);
    const args = JSON.parse((call as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall).function.arguments);
    assert.ok(validate(args), JSON.stringify(validate.errors));

    const stream = await gw.client.chat.completions.create({ model: gw.names.chat, messages, tools, tool_choice: 'required', stream: true });
    const chunks = await collectStream(stream);
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    assert.ok(deltas.length >= 2);
    assert.ok(deltas.every((d) => d.index === 0));
    assert.equal(deltas[0]!.function!.name, 'get_weather');
    const streamedArgs = JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join(''));
    assert.ok(validate(streamedArgs), JSON.stringify(validate.errors));
  });

  it('returns JSON valid against a response_format json_schema', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' }, minItems: 1 }, score: { type: 'number', minimum: 0, maximum: 1 } },
      required: ['name', 'tags', 'score'],
      additionalProperties: false,
    };
    const res = await gw.client.chat.completions.create({
      model: gw.names.chat,
      messages: [{ role: 'user', content: 'Describe a cat.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'cat', schema, strict: true } },
    });
    assertMatchesSchema('CreateChatCompletionResponse', res);
    const doc = JSON.parse(res.choices[0]!.message.content!);
    const validate = new Ajv().compile(schema);
    assert.ok(validate(doc), JSON.stringify(validate.errors));
  });
});

describe('completions and embeddings', () => {
  it('completes a prompt', async () => {
    const res = await gw.client.completions.create({ model: gw.names.chat, prompt: 'Once upon a time', max_tokens: 10 });
    assertMatchesSchema('CreateCompletionResponse', res);
    assert.equal(res.model, gw.names.chat);
    assert.equal(res.usage!.completion_tokens, 10);
  });

  it('embeds inputs deterministically', async () => {
    const res = await gw.client.embeddings.create({ model: gw.names.embed, input: ['hello', 'world'], encoding_format: 'float' });
    assertMatchesSchema('CreateEmbeddingResponse', res);
    assert.equal(res.data.length, 2);
    assert.equal(res.data[0]!.embedding.length, 64);
    const again = await gw.client.embeddings.create({ model: gw.names.embed, input: 'hello', encoding_format: 'float' });
    assert.deepEqual(again.data[0]!.embedding, res.data[0]!.embedding);
  });
});

describe('errors', () => {
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json', ...headers }, body });

  async function expectError(res: Response, status: number, type: string, code: string | null, param: string | null = null) {
    assert.equal(res.status, status);
    assert.ok(res.headers.get('x-request-id'), 'x-request-id header');
    const body = (await res.json()) as { error: Record<string, unknown> };
    assertMatchesSchema('ErrorResponse', body);
    assert.equal(body.error.type, type);
    assert.equal(body.error.code, code);
    assert.equal(body.error.param, param);
  }

  it('rejects malformed JSON with 400', async () => {
    await expectError(await post('/v1/chat/completions', '{"model": "x", "messages": ['), 400, 'invalid_request_error', 'invalid_json');
  });

  it('names the offending param for schema violations', async () => {
    const base = { model: gw.names.chat, messages: [{ role: 'user', content: 'hi' }] };
    await expectError(await post('/v1/chat/completions', JSON.stringify({ ...base, temperature: 5 })), 400, 'invalid_request_error', 'invalid_value', 'temperature');
    await expectError(await post('/v1/chat/completions', JSON.stringify({ model: gw.names.chat })), 400, 'invalid_request_error', 'missing_required_parameter', 'messages');
    await expectError(
      await post('/v1/chat/completions', JSON.stringify({ ...base, messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 3 }] })),
      400,
      'invalid_request_error',
      'invalid_value',
      'messages[1].content',
    );
    await expectError(await post('/v1/chat/completions', JSON.stringify({ ...base, stream_options: { include_usage: true } })), 400, 'invalid_request_error', 'invalid_value', 'stream_options');
  });

  it('raises the SDK errors users expect', async () => {
    await assert.rejects(
      gw.client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found' && err.param === 'model',
    );
    await assert.rejects(
      gw.client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'hi' }], n: 0 }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'n',
    );
    const wrongKey = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-wrong-key-000000000000', maxRetries: 0 });
    await assert.rejects(wrongKey.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError && err.code === 'invalid_api_key');
  });

  it('answers 413 for bodies over the limit and 404 for unknown routes, in the same shape', async () => {
    const huge = JSON.stringify({ model: gw.names.chat, messages: [{ role: 'user', content: 'x'.repeat(9 * 1024 * 1024) }] });
    await expectError(await post('/v1/chat/completions', huge), 413, 'invalid_request_error', 'request_too_large');
    await expectError(await post('/v1/nope', '{}'), 404, 'invalid_request_error', 'unknown_url');
    const res = await fetch(`${gw.url}/v1/files/abc`, { headers: { authorization: `Bearer ${gw.apiKey}` } });
    await expectError(res, 404, 'invalid_request_error', 'unknown_url');
  });

  it('rejects an embeddings model on the chat endpoint', async () => {
    await expectError(
      await post('/v1/chat/completions', JSON.stringify({ model: gw.names.embed, messages: [{ role: 'user', content: 'hi' }] })),
      400,
      'invalid_request_error',
      'unsupported_value',
      'model',
    );
  });

  it('ends a stream whose pod dies mid-way with an error event, never a silent truncation', async () => {
    const res = await post(
      '/v1/chat/completions',
      JSON.stringify({ model: gw.names.chat, messages: [{ role: 'user', content: 'Go on.' }], max_tokens: 50, stream: true }),
      { 'x-sim-fault': 'crash-after=4' },
    );
    assert.equal(res.status, 200);
    const text = await res.text();
    const events = text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
    assert.ok(!events.includes('[DONE]'), 'no [DONE] after a failure');
    const last = JSON.parse(events.at(-1)!);
    assertMatchesSchema('ErrorResponse', last);
    assert.equal(last.error.code, 'upstream_stream_interrupted');
    const content = events.slice(0, -1).map((e) => JSON.parse(e)).filter((c) => c.choices?.[0]?.delta?.content);
    assert.ok(content.length >= 1, 'the chunks before the failure were delivered');
  });
});
