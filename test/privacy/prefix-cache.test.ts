/**
 * Prefix caches are per organization: `usage.prompt_tokens_details.cached_tokens` must not tell one
 * tenant that another sent the same prompt prefix. The gateway sends every generation request with its
 * organization's `cache_salt` (a keyed hash of the org id) and the simulator, like vLLM, salts its
 * block hashes with it. SWITCHYARD_PREFIX_CACHE_SCOPE=shared is the operator's opt-in to sharing.
 * A client's own `cache_salt` partitions its organization's cache further and never reaches another's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { bootGateway, createTenant, uniqueSuffix, type TestGateway } from '../support/harness.js';

/** A prompt of ~700 tokens nobody sent before (every block of it is new to the pod). */
function freshPrompt(): string {
  return `${uniqueSuffix()} ${uniqueSuffix()}: ${'Shunting yards sort freight wagons onto the right trains. '.repeat(60)}`;
}

type Extra = { cache_salt?: string };

function clientFor(gw: TestGateway, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });
}

async function cachedTokens(client: OpenAI, model: string, prompt: string, extra: Extra = {}): Promise<number> {
  const completion = await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], max_tokens: 1, ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  const cached = completion.usage?.prompt_tokens_details?.cached_tokens;
  assert.equal(typeof cached, 'number', 'the runtime reports cached_tokens');
  return cached!;
}

async function cachedCompletionTokens(client: OpenAI, model: string, prompt: string): Promise<number> {
  const completion = await client.completions.create({ model, prompt, max_tokens: 1 });
  return (completion.usage as { prompt_tokens_details?: { cached_tokens?: number } }).prompt_tokens_details?.cached_tokens ?? -1;
}

describe('prefix cache isolation (default: per organization)', () => {
  let gw: TestGateway;
  let orgA: OpenAI;
  let orgB: OpenAI;
  before(async () => {
    gw = await bootGateway();
    orgA = gw.client;
    orgB = clientFor(gw, (await createTenant(gw.gateway, { name: `privacy B ${uniqueSuffix()}` })).apiKey);
  });
  after(async () => {
    await gw?.close();
  });

  it("does not reveal through cached_tokens that another organization sent the same prefix, and still caches within one", async () => {
    const prompt = freshPrompt();
    assert.equal(await cachedTokens(orgA, gw.names.chat, prompt), 0, 'first time anyone sends it');
    const again = await cachedTokens(orgA, gw.names.chat, prompt);
    assert.ok(again >= 512, `the same organization hits its own cache (${again} cached tokens)`);
    assert.equal(await cachedTokens(orgB, gw.names.chat, prompt), 0, 'another organization sees a cold cache');
    assert.ok((await cachedTokens(orgB, gw.names.chat, prompt)) >= 512, 'and then its own blocks');
  });

  it('separates /v1/completions the same way', async () => {
    const prompt = freshPrompt();
    assert.equal(await cachedCompletionTokens(orgA, gw.names.chat, prompt), 0);
    assert.ok((await cachedCompletionTokens(orgA, gw.names.chat, prompt)) >= 512);
    assert.equal(await cachedCompletionTokens(orgB, gw.names.chat, prompt), 0);
  });

  it("namespaces a client's own cache_salt by its organization: it partitions that organization's cache and opens no other", async () => {
    const prompt = freshPrompt();
    assert.equal(await cachedTokens(orgA, gw.names.chat, prompt, { cache_salt: 'end-user-1' }), 0);
    assert.ok((await cachedTokens(orgA, gw.names.chat, prompt, { cache_salt: 'end-user-1' })) >= 512);
    assert.equal(await cachedTokens(orgA, gw.names.chat, prompt, { cache_salt: 'end-user-2' }), 0, 'another partition of the same organization');
    assert.equal(await cachedTokens(orgA, gw.names.chat, prompt), 0, "the organization's default partition");
    assert.equal(await cachedTokens(orgB, gw.names.chat, prompt, { cache_salt: 'end-user-1' }), 0, 'the same salt from another organization');
  });

  it('refuses a cache_salt that is not a non-empty string', async () => {
    for (const cache_salt of ['', 42]) {
      await assert.rejects(
        orgA.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1, cache_salt } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
        (err: unknown) => err instanceof OpenAI.BadRequestError && (err.error as { param?: string }).param === 'cache_salt' && err.type === 'invalid_request_error',
      );
    }
  });
});

describe('prefix cache shared across organizations (SWITCHYARD_PREFIX_CACHE_SCOPE=shared)', () => {
  let gw: TestGateway;
  let orgB: OpenAI;
  before(async () => {
    gw = await bootGateway(undefined, { SWITCHYARD_PREFIX_CACHE_SCOPE: 'shared' });
    orgB = clientFor(gw, (await createTenant(gw.gateway, { name: `privacy shared B ${uniqueSuffix()}` })).apiKey);
  });
  after(async () => {
    await gw?.close();
  });

  it("lets an organization hit the blocks another one computed, as the operator chose", async () => {
    const prompt = freshPrompt();
    assert.equal(await cachedTokens(gw.client, gw.names.chat, prompt), 0);
    assert.ok((await cachedTokens(orgB, gw.names.chat, prompt)) >= 512);
  });
});
