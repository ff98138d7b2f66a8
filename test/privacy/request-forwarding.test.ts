/**
 * Only what the gateway validated reaches a runtime. vLLM hands `chat_template_kwargs` to the chat
 * template and keeps unknown nested fields; a vision model's runtime fetches any http(s) `image_url`
 * from inside the cluster. So: unknown fields anywhere are refused (400, the param named, as OpenAI
 * does), vLLM extensions are type- and range-checked, `chat_template_kwargs` takes an allow-list of
 * scalar switches, and remote image URLs are refused unless their host is on
 * SWITCHYARD_IMAGE_URL_HOSTS (this gateway allows images.example.com and *.cdn.example.org).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { CatalogueConfig } from '../../src/config/index.js';
import { bootGateway, testCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';

let gw: TestGateway;
let vision: string;

before(async () => {
  const suffix = uniqueSuffix();
  vision = `vision-${suffix}`;
  const catalogue = testCatalogue(suffix, {
    // Raw catalogue entries: parseCatalogue fills in the defaults.
    extraModels: [{ name: vision, pool: `chat-${suffix}`, contextWindow: 4096, tokenizer: 'llama3', capabilities: { vision: true } }] as unknown as CatalogueConfig['models'],
  });
  gw = await bootGateway(catalogue, { SWITCHYARD_IMAGE_URL_HOSTS: 'images.example.com,*.cdn.example.org' });
});
after(async () => {
  await gw?.close();
});

type Params = OpenAI.ChatCompletionCreateParamsNonStreaming;

/** Asserts a 400 invalid_request_error with this code and param. */
async function refused(request: Promise<unknown>, code: string, param: string): Promise<void> {
  await assert.rejects(request, (err: unknown) => {
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.type, 'invalid_request_error');
    assert.deepEqual([err.code, err.param], [code, param], err.message);
    return true;
  });
}

const hello = [{ role: 'user' as const, content: 'hello' }];

describe('unknown and unchecked fields', () => {
  it('refuses chat_template_kwargs keys outside the allow-list, which would reach the chat template', async () => {
    for (const key of ['bos_token', 'messages', 'tools', 'custom_instructions']) {
      await refused(
        gw.client.chat.completions.create({ model: gw.names.chat, messages: hello, max_tokens: 2, chat_template_kwargs: { [key]: 'injected' } } as unknown as Params),
        'unknown_parameter',
        `chat_template_kwargs.${key}`,
      );
    }
    await refused(
      gw.client.chat.completions.create({ model: gw.names.chat, messages: hello, max_tokens: 2, chat_template_kwargs: { enable_thinking: 'yes please' } } as unknown as Params),
      'invalid_value',
      'chat_template_kwargs.enable_thinking',
    );
  });

  it('serves the allow-listed switches', async () => {
    const completion = await gw.client.chat.completions.create({ model: gw.names.chat, messages: hello, max_tokens: 2, chat_template_kwargs: { enable_thinking: false } } as unknown as Params);
    assert.equal(completion.usage?.completion_tokens, 2);
  });

  it('refuses unknown nested fields, naming them', async () => {
    await refused(
      gw.client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'hi', reasoning_content: 'x' }], max_tokens: 2 } as unknown as Params),
      'unknown_parameter',
      'messages[0].reasoning_content',
    );
    await refused(
      gw.client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', mm_hash: 'x' }] }], max_tokens: 2 } as unknown as Params),
      'unknown_parameter',
      'messages[0].content[0].mm_hash',
    );
  });

  it('checks vLLM extensions for type and bounds before any pod sees them', async () => {
    for (const [param, value] of [['repetition_penalty', 1000], ['min_p', 7], ['top_k', -9], ['stop_token_ids', 'all'], ['truncate_prompt_tokens', 0]] as const) {
      await refused(gw.client.chat.completions.create({ model: gw.names.chat, messages: hello, max_tokens: 2, [param]: value } as unknown as Params), 'invalid_value', param);
    }
  });
});

describe('image_url', () => {
  const withImage = (url: string): Params => ({
    model: vision,
    max_tokens: 2,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url } }] }],
  });
  const param = 'messages[0].content[1].image_url.url';

  it('refuses remote images from hosts that are not on the allow-list (the runtime would fetch them)', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/iam/', 'http://127.0.0.1:6379/', 'https://evil.example.net/cat.png', 'https://images.example.com.evil.net/cat.png', 'file:///etc/passwd']) {
      await refused(gw.client.chat.completions.create(withImage(url)), 'invalid_image_url', param);
    }
  });

  it('serves images inline as data: URLs, and remote ones from allow-listed hosts', async () => {
    for (const url of ['data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'https://images.example.com/cat.png', 'https://eu.cdn.example.org/cat.png']) {
      const completion = await gw.client.chat.completions.create(withImage(url));
      assert.equal(completion.usage?.completion_tokens, 2, url.slice(0, 40));
    }
  });

  it('refuses a data: URL that is not a base64 image', async () => {
    await refused(gw.client.chat.completions.create(withImage('data:text/html;base64,PHNjcmlwdD4=')), 'invalid_image_url', param);
  });
});
