/**
 * End to end: the gateway counts prompt tokens itself and enforces the context window before any pod
 * sees the request; the runtime's count agrees with ours.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { countPromptTokens } from '../../src/prompt/prompt-counter.js';
import { loadTokenizer } from '../../src/prompt/tokenizer.js';
import type { RequestBody } from '../../src/validation/request-validator.js';
import { bootGateway, type TestGateway } from '../support/harness.js';

let gw: TestGateway;
const WINDOW = 4096;

before(async () => {
  gw = await bootGateway();
});
after(async () => {
  await gw?.close();
});

const messages = [
  { role: 'system' as const, content: 'You are a careful assistant.' },
  { role: 'user' as const, content: 'Explain continuous batching. '.repeat(50) },
];
const promptTokens = countPromptTokens(loadTokenizer('llama3'), 'chat.completions', { model: 'm', messages } as unknown as RequestBody)[0]!;

describe('context window', () => {
  it('accepts a request exactly at the window and the runtime counts the same prompt tokens', async () => {
    const res = await gw.client.chat.completions.create({ model: gw.names.chat, messages, max_tokens: WINDOW - promptTokens, stream: false });
    assert.equal(res.usage!.prompt_tokens, promptTokens);
  });

  it('rejects one token over the window with 400 context_length_exceeded and the numbers', async () => {
    await assert.rejects(
      gw.client.chat.completions.create({ model: gw.names.chat, messages, max_tokens: WINDOW - promptTokens + 1 }),
      (err: unknown) =>
        err instanceof OpenAI.BadRequestError &&
        err.code === 'context_length_exceeded' &&
        err.param === 'messages' &&
        err.message.includes(`maximum context length is ${WINDOW} tokens`) &&
        err.message.includes(`${WINDOW + 1} tokens (${promptTokens} in the messages, ${WINDOW - promptTokens + 1} in the completion)`),
    );
  });

  it('bounds max_tokens by the room left when the client sets none', async () => {
    // A prompt that leaves about 40 tokens of room, so generating up to the window is quick.
    const count = (m: typeof messages) => countPromptTokens(loadTokenizer('llama3'), 'chat.completions', { model: 'm', messages: m } as unknown as RequestBody)[0]!;
    let filler = 'word '.repeat(WINDOW - 40 - count(messages));
    while (count([...messages, { role: 'user', content: filler }]) > WINDOW - 40) filler = filler.slice(5);
    const nearlyFull = [...messages, { role: 'user' as const, content: filler }];
    const room = WINDOW - count(nearlyFull);
    assert.ok(room >= 30 && room <= 40, `room ${room}`);
    const body = { model: gw.names.chat, messages: nearlyFull, ignore_eos: true, stream: true, stream_options: { include_usage: true } };
    const stream = await gw.client.chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    assert.equal(usage!.completion_tokens, room, 'generated exactly up to the window');
  });

  it('rejects a prompt that alone fills the window', async () => {
    const huge = [{ role: 'user' as const, content: 'token '.repeat(WINDOW) }];
    await assert.rejects(gw.client.chat.completions.create({ model: gw.names.chat, messages: huge }), (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === 'context_length_exceeded');
  });
});

describe('capabilities', () => {
  it('refuses image content for a text-only model instead of dropping it', async () => {
    await assert.rejects(
      gw.client.chat.completions.create({
        model: gw.names.chat,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === 'unsupported_value' && err.param === 'messages[0].content[1].type',
    );
  });

  it('refuses unknown top-level parameters like OpenAI does', async () => {
    await assert.rejects(
      gw.client.chat.completions.create({ model: gw.names.chat, messages, temprature: 0.2 } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === 'unknown_parameter' && err.param === 'temprature',
    );
  });
});
