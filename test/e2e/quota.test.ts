/**
 * End to end: limits as a client of the official openai SDK sees them, across two gateway replicas
 * sharing PostgreSQL and Redis.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { countPromptTokens } from '../../src/prompt/prompt-counter.js';
import { loadTokenizer } from '../../src/prompt/tokenizer.js';
import type { RequestBody } from '../../src/validation/request-validator.js';
import { bootGateway, createTenant, testCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';

const suffix = uniqueSuffix();
// Tier limits for this file: free is tight on concurrency and requests, premium on tokens.
const catalogue = {
  ...testCatalogue(suffix),
  tiers: {
    free: { rpm: 5, tpm: null, concurrency: 1, dailySpend: null, monthlySpend: null, softMonthlySpend: null },
    premium: { rpm: null, tpm: 3_000, concurrency: null, dailySpend: null, monthlySpend: null, softDailySpend: null, softMonthlySpend: null },
  },
};
let a: TestGateway;
let b: TestGateway;

before(async () => {
  [a, b] = await Promise.all([bootGateway(catalogue), bootGateway(catalogue)]);
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

const messages = [{ role: 'user' as const, content: 'Hello there!' }];
const post = (gw: TestGateway, key: string, body: object) =>
  fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('rate limits through the gateway', () => {
  it('sends OpenAI rate-limit headers on every response, JSON and stream', async () => {
    const tenant = await createTenant(a.gateway, { tier: 'premium' });
    const json = await post(a, tenant.apiKey, { model: a.names.chat, messages, max_tokens: 5 });
    assert.equal(json.status, 200);
    assert.equal(json.headers.get('x-ratelimit-limit-tokens'), '3000');
    assert.ok(Number(json.headers.get('x-ratelimit-remaining-tokens')) < 3000);
    assert.equal(json.headers.get('x-ratelimit-reset-tokens'), '1m0s');
    const stream = await post(a, tenant.apiKey, { model: a.names.chat, messages, max_tokens: 5, stream: true });
    assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(stream.headers.get('x-ratelimit-limit-tokens'), '3000');
    await stream.text();
  });

  it('admits exactly the RPM limit from a burst, across two replicas, and refuses the rest with 429', async () => {
    const tenant = await createTenant(a.gateway, { tier: 'free' });
    // Concurrency is 1 on this tier: send sequentially-admitted but overlapping requests, alternating replicas.
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await post(i % 2 ? b : a, tenant.apiKey, { model: a.names.chat, messages, max_tokens: 1 });
      statuses.push(res.status);
      const body = (await res.json()) as { error?: { code: string; type: string } };
      if (res.status === 429) {
        assert.equal(body.error!.code, 'rate_limit_exceeded');
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
        assert.equal(res.headers.get('x-ratelimit-remaining-requests'), '0');
      }
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
  });

  it('lets the SDK honour retry-after and succeed once the concurrency lease is free', async () => {
    const tenant = await createTenant(a.gateway, { tier: 'free' });
    const streaming = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: tenant.apiKey, maxRetries: 0 });
    const long = await streaming.chat.completions.create({ model: a.names.chat, messages, max_tokens: 150, stream: true, ignore_eos: true } as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
    const drain = (async () => {
      for await (const _ of long);
    })();
    // A raw request meanwhile is refused on the other replica: the lease is global.
    const refused = await post(b, tenant.apiKey, { model: a.names.chat, messages, max_tokens: 1 });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    await refused.text();
    // The SDK retries on 429 after retry-after(-ms), and gets through when the stream has ended.
    const patient = new OpenAI({ baseURL: `${b.url}/v1`, apiKey: tenant.apiKey, maxRetries: 4 });
    const started = Date.now();
    const res = await patient.chat.completions.create({ model: a.names.chat, messages, max_tokens: 1 });
    assert.equal(res.choices.length, 1);
    assert.ok(Date.now() - started >= 900, 'waited for retry-after');
    await drain;
  });

  it('never admits more tokens than the TPM limit from many concurrent clients on two replicas', async () => {
    const tenant = await createTenant(a.gateway, { tier: 'premium' });
    const promptTokens = countPromptTokens(loadTokenizer('llama3'), 'chat.completions', { model: 'm', messages } as unknown as RequestBody)[0]!;
    const maxTokens = 100;
    const reserve = promptTokens + maxTokens;
    const results = await Promise.all(
      // ignore_eos: every request uses exactly its reservation, so no refund from an early finish makes
      // room for more within the window and admitted × reservation is exactly what was charged.
      Array.from({ length: 60 }, (_, i) =>
        post(i % 2 ? b : a, tenant.apiKey, { model: a.names.chat, messages, max_tokens: maxTokens, ignore_eos: true }).then(async (r) => (await r.text(), r.status)),
      ),
    );
    const admitted = results.filter((s) => s === 200).length;
    assert.ok(results.every((s) => s === 200 || s === 429), results.join(','));
    assert.ok(admitted * reserve <= 3_000, `admitted ${admitted} × ${reserve} tokens reserved against 3,000`);
    assert.ok(admitted >= 1 && results.includes(429));
  });

  it('settles a stream the client abandoned with what was generated, not the reservation', async () => {
    const tenant = await createTenant(a.gateway, { tier: 'premium' });
    const client = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: tenant.apiKey, maxRetries: 0 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: a.names.chat, messages, max_tokens: 2_000, stream: true, ignore_eos: true } as OpenAI.Chat.ChatCompletionCreateParamsStreaming, { signal: controller.signal });
    let seen = 0;
    try {
      for await (const _ of stream) if (++seen === 5) controller.abort();
    } catch {
      /* aborted */
    }
    await new Promise((r) => setTimeout(r, 300));
    const next = await post(a, tenant.apiKey, { model: a.names.chat, messages, max_tokens: 10 });
    assert.equal(next.status, 200, 'the 2,000-token reservation was given back');
    const remaining = Number(next.headers.get('x-ratelimit-remaining-tokens'));
    assert.ok(remaining > 3_000 - 200, `remaining ${remaining}: only the tokens really used are charged`);
    await next.text();
  });
});
