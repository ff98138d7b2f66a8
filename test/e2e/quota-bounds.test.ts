/**
 * End to end: numbers a client sends can neither lock its organization out nor loosen its limits. Each
 * impossible value is refused by validation (400, OpenAI's error object naming the param) before
 * anything is reserved, and the organization's next request goes through as if nothing happened.
 * A priced model and the standard tier's daily budget make a corrupted spend total visible as a 429.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { bootGateway, createTenant, testCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';

const suffix = uniqueSuffix();
const base = testCatalogue(suffix);
const catalogue = { ...base, models: base.models.map((m) => ({ ...m, inputPricePerMTok: 1, outputPricePerMTok: 2 })) };
let gw: TestGateway;

before(async () => {
  gw = await bootGateway(catalogue);
});
after(async () => {
  await gw?.close();
});

const messages = [{ role: 'user' as const, content: 'Hello there!' }];

/** A client of a fresh standard-tier organization (its own limits and spend, untouched by other tests). */
async function freshClient(): Promise<OpenAI> {
  const tenant = await createTenant(gw.gateway, { tier: 'standard' });
  return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: tenant.apiKey, maxRetries: 0, timeout: 30_000 });
}

/** A normal chat request; returns the requests left in this minute's window as the gateway reports it. */
async function normalChat(client: OpenAI): Promise<number> {
  const { data, response } = await client.chat.completions.create({ model: gw.names.chat, messages, max_tokens: 3 }).withResponse();
  assert.equal(data.choices.length, 1);
  return Number(response.headers.get('x-ratelimit-remaining-requests'));
}

async function refusedWith(request: Promise<unknown>, param: string, code = 'invalid_value'): Promise<void> {
  await assert.rejects(request, (err: unknown) => {
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 400, err.message);
    assert.equal(err.type, 'invalid_request_error', err.message);
    assert.equal(err.param, param, err.message);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('request numbers cannot corrupt an organization’s quota', () => {
  it('refuses a negative max_tokens with 400 and the organization’s next request still succeeds', async () => {
    const client = await freshClient();
    // The organization has spent something today, so its daily spend total exists.
    const before = await normalChat(client);
    await refusedWith(client.chat.completions.create({ model: gw.names.chat, messages, max_tokens: -100_000_000_000 }), 'max_tokens');
    await refusedWith(client.chat.completions.create({ model: gw.names.chat, messages, max_completion_tokens: -1 }), 'max_completion_tokens');
    // Not 429 insufficient_quota, and the refused requests were never admitted: only this one counts.
    const after = await normalChat(client);
    assert.equal(after, before - 1, 'the refused requests reserved nothing');
  });

  it('refuses a zero output cap on chat before anything is reserved', async () => {
    const client = await freshClient();
    const before = await normalChat(client);
    await refusedWith(client.chat.completions.create({ model: gw.names.chat, messages, max_tokens: 0 }), 'max_tokens');
    await refusedWith(client.chat.completions.create({ model: gw.names.chat, messages, max_completion_tokens: 0 }), 'max_completion_tokens');
    assert.equal(await normalChat(client), before - 1);
  });

  it('refuses out-of-range counts on /v1/completions before anything is reserved', async () => {
    const client = await freshClient();
    const before = await normalChat(client);
    const complete = (fields: Record<string, unknown>) => client.completions.create({ model: gw.names.chat, prompt: 'Once upon a time', ...fields } as OpenAI.CompletionCreateParamsNonStreaming);
    await refusedWith(complete({ max_tokens: 1e300 }), 'max_tokens');
    await refusedWith(complete({ max_tokens: 1.5 }), 'max_tokens');
    await refusedWith(complete({ max_tokens: -1 }), 'max_tokens');
    await refusedWith(complete({ n: 0 }), 'n');
    await refusedWith(complete({ best_of: 21 }), 'best_of');
    await refusedWith(complete({ prompt: [] }), 'prompt');
    assert.equal(await normalChat(client), before - 1);
    assert.equal((await complete({ max_tokens: 2, n: 2 })).choices.length, 2);
  });

  it('answers a response_format schema with an unknown $schema with 400 naming the param, and accepts draft-07', async () => {
    const client = await freshClient();
    const format = (schema: Record<string, unknown>) => ({ type: 'json_schema' as const, json_schema: { name: 'answer', schema } });
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    await refusedWith(
      client.chat.completions.create({ model: gw.names.chat, messages, max_tokens: 20, response_format: format({ $schema: 'http://bogus', ...schema }) }),
      'response_format.json_schema.schema',
    );
    await refusedWith(
      client.chat.completions.create({
        model: gw.names.chat,
        messages,
        max_tokens: 20,
        tools: [{ type: 'function', function: { name: 'f', parameters: { $schema: 'http://bogus', ...schema } } }],
      }),
      'tools[0].function.parameters',
    );
    // The SDK's own zod helper sends draft-07 schemas.
    const res = await client.chat.completions.create({
      model: gw.names.chat,
      messages,
      max_tokens: 50,
      response_format: format({ $schema: 'http://json-schema.org/draft-07/schema#', ...schema }),
    });
    assert.equal(res.choices.length, 1);
  });
});
