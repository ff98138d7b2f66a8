/**
 * Property-based fuzzing of the /v1 request bodies against a live gateway (real PostgreSQL, Redis,
 * tokenizers and simulator pods), at a size that fits CI: SWITCHYARD_FUZZ_RUNS cases per endpoint
 * (default 250; `npm run bench:fuzz` runs ≥ 10,000). Every answer must be an OpenAI error object from a
 * known stage, with the status and type its code maps to, or a success matching OpenAI's schema —
 * never a 5xx, a dropped connection or a crash. The bodies must also get past JSON parsing: each of
 * the parse, schema, prompt and quota stages has to refuse some of them. A failure names fast-check's
 * seed; SWITCHYARD_FUZZ_SEED=<seed> replays it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sample } from '../support/eventually.js';
import { bootGateway, createTenant, testCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { ENDPOINTS, Tally, fuzzCases, probe, type FuzzTarget, type Tenant } from './bodies.js';

const RUNS = Number(process.env.SWITCHYARD_FUZZ_RUNS ?? 250);
const SEED = process.env.SWITCHYARD_FUZZ_SEED ? Number(process.env.SWITCHYARD_FUZZ_SEED) : undefined;
const TIGHT_TPM = 3_000;

const suffix = uniqueSuffix();
const base = testCatalogue(suffix, { profile: 'zero' });
// The `free` tier is the tight tenant's: tokens per minute below the chat context window, nothing else.
const catalogue = { ...base, tiers: { ...base.tiers, free: { rpm: null, tpm: TIGHT_TPM, concurrency: null, dailySpend: null, monthlySpend: null, softDailySpend: null, softMonthlySpend: null } } };

let gw: TestGateway;
let keys: Record<Tenant, string>;
let target: FuzzTarget;

before(async () => {
  gw = await bootGateway(catalogue);
  const [roomy, tight] = await Promise.all([createTenant(gw.gateway, { tier: 'enterprise' }), createTenant(gw.gateway, { tier: 'free' })]);
  keys = { roomy: roomy.apiKey, tight: tight.apiKey };
  target = { models: { chat: gw.names.chat, embed: gw.names.embed }, contextWindow: { chat: 4096, embed: 8192 }, tightTpm: TIGHT_TPM };
});
after(async () => {
  await gw?.close();
});

describe('hostile request bodies', () => {
  for (const endpoint of ENDPOINTS) {
    it(`${endpoint}: ${RUNS} generated bodies get an OpenAI error from a known stage or a valid success, never a 5xx`, async (t) => {
      const tally = new Tally();
      await fc.assert(
        fc.asyncProperty(fuzzCases(endpoint, target), async (c) => {
          tally.add(c, await probe(gw.url, keys, c));
        }),
        { numRuns: RUNS, seed: SEED },
      );
      t.diagnostic(`${endpoint}: ${JSON.stringify(tally.stages)}`);
      // Shrinking replays cases, so the tally can exceed RUNS; each stage must have refused something.
      for (const stage of ['parse', 'schema', 'prompt', 'quota'] as const) assert.ok(tally.stages[stage] > 0, `${endpoint}: no body was refused at the ${stage} stage: ${JSON.stringify(tally.stages)}`);
      assert.ok(tally.stages.served > 0, `${endpoint}: no well-formed body was served: ${JSON.stringify(tally.stages)}`);
    });
  }

  it('leaves the gateway serving and its counters free of server errors', async () => {
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
    const res = await gw.client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'still there?' }], max_tokens: 2 });
    assert.equal(res.choices.length, 1);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.equal(sample(metrics, 'switchyard_errors_total', { type: 'server_error' }), 0, 'a server_error was recorded');
  });
});
