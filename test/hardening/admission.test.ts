/**
 * Cheap limits come before expensive work: an organization or key over its request rate, or holding too
 * many request bytes in flight, is refused with 429 before its body is even parsed (a malformed body
 * gets 429, not 400), in OpenAI's error shape with retry-after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { LimitPolicyService } from '../../src/quota/limit-policy.service.js';
import { eventually } from '../support/eventually.js';
import { bootGateway, createTenant, testCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';

const suffix = uniqueSuffix();
const BODY_LIMIT = 64 * 1024;
const NONE = { tpm: null, dailySpend: null, monthlySpend: null, softDailySpend: null, softMonthlySpend: null };
const catalogue = {
  ...testCatalogue(suffix),
  tiers: {
    free: { ...NONE, rpm: 5, concurrency: null },
    // Two requests at once: at most 2 × the body limit of request bytes in flight.
    standard: { ...NONE, rpm: null, concurrency: 2 },
  },
};

let gw: TestGateway;
before(async () => {
  gw = await bootGateway(catalogue, { SWITCHYARD_BODY_LIMIT_BYTES: String(BODY_LIMIT) });
});
after(async () => {
  await gw?.close();
});

const post = (apiKey: string, body: string, signal?: AbortSignal) =>
  fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body, signal });
/** Not JSON: parsing it would answer 400 invalid_json. */
const malformed = (bytes = 64) => `{"model": ${'x'.repeat(bytes)}`;

async function refusedBeforeParsing(res: Response, what: RegExp): Promise<void> {
  const body = (await res.json()) as { error: { type: string; code: string; message: string; param: unknown } };
  assert.equal(res.status, 429, JSON.stringify(body));
  assert.deepEqual([body.error.type, body.error.code, body.error.param], ['rate_limit_error', 'rate_limit_exceeded', null]);
  assert.match(body.error.message, what);
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
}

describe('admission before expensive work', () => {
  it("refuses an organization over its request rate before parsing the body, and the SDK sees OpenAI's 429", async () => {
    const tenant = await createTenant(gw.gateway, { tier: 'free' });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(tenant.apiKey, malformed());
      statuses.push(res.status);
      await res.text();
    }
    assert.deepEqual(statuses, [400, 400, 400, 400, 400], 'within the rate: parsed, and refused as malformed');
    const over = await post(tenant.apiKey, malformed());
    await refusedBeforeParsing(over, new RegExp(`requests per minute \\(RPM\\) for organization ${tenant.orgId}: Limit 5`));
    assert.equal(over.headers.get('x-ratelimit-limit-requests'), '5');
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: tenant.apiKey, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1 }).then(
      () => assert.fail('expected a 429'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.RateLimitError);
    assert.equal(err.code, 'rate_limit_exceeded');
  });

  it("applies a key's own request rate, from its limit policy", async () => {
    const tenant = await createTenant(gw.gateway);
    gw.gateway.app.get(LimitPolicyService).put(`key:${tenant.keyId}`, { rpm: 2 });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: tenant.apiKey, maxRetries: 0 });
    for (let i = 0; i < 2; i++) await client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1 });
    await refusedBeforeParsing(await post(tenant.apiKey, malformed()), /requests per minute \(RPM\) for key sk-sy-\w+: Limit 2/);
  });

  it('bounds the request bytes an organization has in flight, before parsing, and frees them when its requests end', async () => {
    const tenant = await createTenant(gw.gateway);
    const big = BODY_LIMIT - 4 * 1024;
    // Two long streams, each with a body of `big` bytes (whitespace the JSON parser skips).
    const stream = JSON.stringify({ model: gw.names.chat, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2_000, ignore_eos: true, stream: true });
    const padded = `${stream.slice(0, -1)}${' '.repeat(big - stream.length)}}`;
    const holders = [new AbortController(), new AbortController()];
    const streams = await Promise.all(holders.map((h) => post(tenant.apiKey, padded, h.signal)));
    assert.deepEqual(streams.map((s) => s.status), [200, 200]);

    await refusedBeforeParsing(await post(tenant.apiKey, malformed(big)), new RegExp(`request bytes in flight for organization ${tenant.orgId}: ${2 * big} bytes .* adds ${big + 10} \\(limit ${2 * BODY_LIMIT}\\)`));
    // A small body still fits beside them: the bound is on bytes, not on requests.
    const small = await post(tenant.apiKey, malformed());
    assert.equal(small.status, 400);
    await small.text();

    for (const h of holders) h.abort();
    await Promise.all(streams.map((s) => s.text().catch(() => undefined)));
    await eventually(async () => {
      const res = await post(tenant.apiKey, malformed(big));
      await res.text();
      return res.status === 400;
    }, 'the ended streams to free their bytes');
  });
});
