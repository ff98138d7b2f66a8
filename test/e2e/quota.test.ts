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
import { eventually, sample } from '../support/eventually.js';
import { bootGateways, createTenant, testCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';

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
  [a, b] = await bootGateways(2, catalogue);
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

const messages = [{ role: 'user' as const, content: 'Hello there!' }];
const gatewaySample = async (gw: TestGateway, name: string, labels: Record<string, string>) => sample(await (await fetch(`${gw.url}/metrics`)).text(), name, labels);
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
    // Holds the organization's only concurrency lease until the test cancels it (2,000 tokens outlast
    // everything below), so what follows does not race the stream's end.
    const holder = new AbortController();
    const long = await streaming.chat.completions.create({ model: a.names.chat, messages, max_tokens: 2_000, stream: true, ignore_eos: true } as OpenAI.Chat.ChatCompletionCreateParamsStreaming, { signal: holder.signal });
    const drain = (async () => {
      try {
        for await (const _ of long);
      } catch {
        /* cancelled */
      }
    })();
    // A raw request meanwhile is refused on the other replica: the lease is global.
    const refused = await post(b, tenant.apiKey, { model: a.names.chat, messages, max_tokens: 1 });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    await refused.text();
    // The SDK retries on 429 after retry-after(-ms); every attempt it makes is recorded.
    const attempts: Array<{ sentAt: number; status: number; answeredAt: number; retryAfterMs: number }> = [];
    const recording: typeof fetch = async (input, init) => {
      const sentAt = performance.now();
      const res = await fetch(input, init);
      attempts.push({ sentAt, status: res.status, answeredAt: performance.now(), retryAfterMs: Number(res.headers.get('retry-after-ms') ?? 0) });
      return res;
    };
    const patient = new OpenAI({ baseURL: `${b.url}/v1`, apiKey: tenant.apiKey, maxRetries: 4, fetch: recording });
    const pending = patient.chat.completions.create({ model: a.names.chat, messages, max_tokens: 1 });
    await eventually(() => attempts.length > 0, "the SDK's first attempt");
    assert.equal(attempts[0]!.status, 429, 'refused while the lease is held');
    holder.abort(); // the stream ends, and its lease with it
    const res = await pending;
    assert.equal(res.choices.length, 1);
    assert.equal(attempts.at(-1)!.status, 200);
    for (let i = 1; i < attempts.length; i++) {
      const waited = attempts[i]!.sentAt - attempts[i - 1]!.answeredAt;
      assert.ok(attempts[i - 1]!.retryAfterMs >= 1 && waited >= attempts[i - 1]!.retryAfterMs - 1, `attempt ${i + 1} waited ${waited.toFixed(0)} ms for retry-after-ms ${attempts[i - 1]!.retryAfterMs}`);
    }
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
    const closed = () => gatewaySample(a, 'switchyard_requests_total', { model: a.names.chat, status: '499' });
    const closedBefore = await closed();
    let seen = 0;
    try {
      for await (const _ of stream) if (++seen === 5) controller.abort();
    } catch {
      /* aborted */
    }
    // The gateway settles the moment it sees the client go (the 499 is counted right after); the next
    // request on the same replica reaches Redis behind that settle.
    await eventually(async () => (await closed()) > closedBefore, 'the abandoned stream to be finalised');
    const next = await post(a, tenant.apiKey, { model: a.names.chat, messages, max_tokens: 10 });
    assert.equal(next.status, 200, 'the 2,000-token reservation was given back');
    const remaining = Number(next.headers.get('x-ratelimit-remaining-tokens'));
    assert.ok(remaining > 3_000 - 200, `remaining ${remaining}: only the tokens really used are charged`);
    await next.text();
  });
});
