/**
 * One /v1/completions call fans out to prompts × n (× best_of candidates) sequences: the fan-out is
 * bounded, reserved against TPM as the runtime will generate it, and a non-streamed answer too large to
 * hold is refused with a clear error and charged. The official openai SDK is the client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { countPromptTokens } from '../../src/prompt/prompt-counter.js';
import { loadTokenizer } from '../../src/prompt/tokenizer.js';
import { RedisService } from '../../src/redis/redis.service.js';
import type { RequestBody } from '../../src/validation/request-validator.js';
import { eventually } from '../support/eventually.js';
import { bootGateway, createTenant, testCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';

const suffix = uniqueSuffix();
const catalogue = {
  ...testCatalogue(suffix),
  tiers: { premium: { rpm: null, tpm: 3_000, concurrency: null, dailySpend: null, monthlySpend: null, softDailySpend: null, softMonthlySpend: null } },
};
const MAX_SEQUENCES = 64;
const MAX_RESPONSE_BYTES = 16_384;

let gw: TestGateway;
before(async () => {
  gw = await bootGateway(catalogue, { SWITCHYARD_MAX_SEQUENCES_PER_REQUEST: String(MAX_SEQUENCES), SWITCHYARD_UPSTREAM_MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES) });
});
after(async () => {
  await gw?.close();
});

const clientOf = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
async function refusal(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await call.then(
    () => assert.fail('expected the request to be refused'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.APIError, String(err));
  return err;
}

describe('completions fan-out', () => {
  it('refuses more sequences than the bound: prompts × n, and prompts × best_of', async () => {
    const client = clientOf(gw.apiKey);
    const prompts = Array.from({ length: 8 }, (_, i) => `Prompt number ${i}`);
    const byN = await refusal(client.completions.create({ model: gw.names.chat, prompt: prompts, n: 16, max_tokens: 1 }));
    assert.equal(byN.status, 400);
    assert.equal(byN.param, 'n');
    assert.equal(byN.code, 'invalid_value');
    assert.match(byN.message, /128 sequences .*at most 64/);
    const byBestOf = await refusal(client.completions.create({ model: gw.names.chat, prompt: prompts, n: 1, best_of: 9, max_tokens: 1 }));
    assert.equal(byBestOf.status, 400);
    assert.equal(byBestOf.param, 'best_of');
    // Within the bound it is served, every choice there.
    const ok = await client.completions.create({ model: gw.names.chat, prompt: prompts, n: 8, max_tokens: 1 });
    assert.equal(ok.choices.length, 64);
  });

  it('follows the spec on best_of: at least n, never streamed', async () => {
    const client = clientOf(gw.apiKey);
    const low = await refusal(client.completions.create({ model: gw.names.chat, prompt: 'Hi', n: 3, best_of: 2, max_tokens: 1 }));
    assert.deepEqual([low.status, low.param], [400, 'best_of']);
    const streamed = await refusal(client.completions.create({ model: gw.names.chat, prompt: 'Hi', best_of: 2, max_tokens: 1, stream: true }));
    assert.deepEqual([streamed.status, streamed.param], [400, 'best_of']);
  });

  it('reserves best_of candidates against TPM, as the runtime generates them', async () => {
    const tenant = await createTenant(gw.gateway, { tier: 'premium' });
    const client = clientOf(tenant.apiKey);
    // 200 tokens × 20 candidates = 4,000 > the tier's 3,000 TPM, although one returned choice would fit.
    const err = await refusal(client.completions.create({ model: gw.names.chat, prompt: 'Hi', best_of: 20, max_tokens: 200 }));
    assert.equal(err.status, 429);
    assert.equal(err.code, 'rate_limit_exceeded');
    assert.match(err.message, /Request too large .*Limit 3000, Requested 40\d\d/);
    const fits = await client.completions.create({ model: gw.names.chat, prompt: 'Hi', best_of: 10, max_tokens: 200 });
    assert.equal(fits.choices.length, 1);
  });

  it('refuses a non-streamed answer larger than the buffer bound, charges what was generated, and streams it', async () => {
    const tenant = await createTenant(gw.gateway);
    const client = clientOf(tenant.apiKey);
    const request = { model: gw.names.chat, prompt: 'Hello', n: 8, max_tokens: 64, logprobs: 5, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming;
    const err = await refusal(client.completions.create(request));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'response_too_large');
    assert.match(err.message, /larger than 16384 bytes.*stream: true/);
    // The runtime generated all of it: the whole reservation is charged (settled: the lease is gone).
    const scope = `q:{o:${tenant.orgId}}:org`;
    const redis = gw.gateway.app.get(RedisService).client;
    await eventually(async () => (await redis.zcard(`${scope}:cc`)) === 0, 'the request to be settled');
    const prompt = countPromptTokens(loadTokenizer('llama3'), 'completions', { model: 'm', prompt: 'Hello' } as unknown as RequestBody)[0]!;
    assert.equal(Number(await redis.get(`${scope}:tks`)), prompt + 8 * 64);
    // The same request streamed is relayed chunk by chunk, whatever its size.
    const stream = await client.completions.create({ ...request, stream: true });
    const finished = new Map<number, string>();
    for await (const chunk of stream) for (const c of chunk.choices) if (c.finish_reason) finished.set(c.index, c.finish_reason);
    assert.deepEqual([...finished.entries()].sort((a, b) => a[0] - b[0]), Array.from({ length: 8 }, (_, i) => [i, 'length']));
  });
});
