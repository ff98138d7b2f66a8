/**
 * The model catalogue at run time: two gateway replicas sharing PostgreSQL and Redis, one simulator
 * pod behind a static pool. A model added, changed or deleted through one replica's admin API is
 * served (or refused) by the other without a restart (the bus is the only way a replica reloads, so a
 * few seconds' patience proves it; the time it took is reported, not asserted); admin edits win over the
 * config file and survive a restart; every change is audited; bad input gets OpenAI's error object.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { parseCatalogue, type CatalogueConfig } from '../../src/config/index.js';
import { CatalogRepository } from '../../src/catalog/catalog.repository.js';
import { PrismaService } from '../../src/database/index.js';
import { spawnSimPod, type SimPod } from '../../runtimes/sim/spawn.js';
import { eventually } from '../support/eventually.js';
import { admin, chat, statusOf } from './support.js';
import { SIM_PROFILE, TEST_ADMIN_KEY, bootGateway, bootGateways, uniqueSuffix, type TestGateway } from '../support/harness.js';

const SERVED = 'meta-llama/Llama-3.2-1B-Instruct';
const suffix = uniqueSuffix();
const POOL = `cat-${suffix}`;
const SEEDED = `seeded-${suffix}`;
const EXTRA = `extra-${suffix}`;
const ADDED = `added-${suffix}`;
const ADDED_ALIAS = `added-alias-${suffix}`;

let pod: SimPod;
let catalogue: CatalogueConfig;
let a: TestGateway;
let b: TestGateway;


before(async () => {
  pod = await spawnSimPod({ model: SERVED, profile: SIM_PROFILE, args: ['--max-model-len', '4096'], startTimeoutMs: 180_000 });
  catalogue = parseCatalogue(
    {
      pools: [{ name: POOL, runtime: 'sim', provider: 'static', servedModel: SERVED, endpoints: [pod.baseUrl] }],
      models: [
        { name: SEEDED, pool: POOL, contextWindow: 4096, tokenizer: 'llama3' },
        { name: EXTRA, pool: POOL, contextWindow: 4096, tokenizer: 'llama3' },
      ],
    },
    'catalogue test',
  );
  // Two replicas of one deployment: the same config file, started together.
  [a, b] = await bootGateways(2, catalogue);
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await pod?.stop();
});

describe('models through the admin API, two replicas', () => {
  it('adds a model on replica A that replica B serves without a restart', async (t) => {
    assert.equal(await statusOf(chat(b, ADDED_ALIAS)), 404);
    const started = performance.now();
    const created = await admin(a, 'POST', '/models', {
      name: ADDED,
      aliases: [ADDED_ALIAS],
      pool: POOL,
      context_window: 2048,
      tokenizer: 'llama3',
      input_price_per_mtok: 0.5,
      output_price_per_mtok: 1.25,
      capabilities: { tools: true, vision: false },
      fallbacks: [SEEDED],
      owned_by: 'acme',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(
      { ...created.body, created_at: 0 },
      {
        id: ADDED, object: 'catalog.model', kind: 'chat', aliases: [ADDED_ALIAS], pool: POOL, runtime: 'sim', served_model: SERVED,
        context_window: 2048, max_output_tokens: null, tokenizer: 'llama3', input_price_per_mtok: 0.5, output_price_per_mtok: 1.25,
        capabilities: { tools: true, vision: false }, fallbacks: [SEEDED], owned_by: 'acme', created_at: 0,
      },
    );
    // A answers from the moment the call returns; B once the invalidation bus has reached it.
    const answered = performance.now();
    // (Polled through B's admin view, which reads the same in-memory catalogue as /v1 and calls no pod.)
    await eventually(async () => (await admin(b, 'GET', `/models/${ADDED_ALIAS}`)).status === 200, 'replica B to load the new model', 10_000, 5);
    t.diagnostic(`create call ${(answered - started).toFixed(0)} ms; B had it ${(performance.now() - answered).toFixed(0)} ms after the answer`);
    assert.equal((await chat(b, ADDED_ALIAS)).model, ADDED_ALIAS);
    const res = await chat(a, ADDED);
    assert.equal(res.model, ADDED);
    const listed = await b.client.models.list();
    assert.ok(listed.data.some((m) => m.id === ADDED));
    const fetched = await admin(b, 'GET', `/models/${ADDED_ALIAS}`);
    assert.equal(fetched.body.id, ADDED);
  });

  it('changes a model on B (context window, aliases) and A enforces it without a restart', async () => {
    const long = 'switch '.repeat(300);
    assert.equal(await statusOf(chat(a, ADDED, long)), 200);
    const patched = await admin(b, 'PATCH', `/models/${ADDED}`, { context_window: 64, aliases: [`${ADDED_ALIAS}-2`] });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.context_window, 64);
    await eventually(async () => (await statusOf(chat(a, ADDED, long))) === 400, 'replica A to apply the smaller context window', 10_000, 5);
    const err = await chat(a, ADDED, long).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.code, 'context_length_exceeded');
    await eventually(async () => (await statusOf(chat(a, ADDED_ALIAS))) === 404, 'the old alias to be gone on A', 10_000, 5);
    assert.equal(await statusOf(chat(a, `${ADDED_ALIAS}-2`)), 200);
  });

  it('refuses invalid definitions with OpenAI error objects naming the field', async () => {
    const base = { name: `bad-${suffix}`, pool: POOL, context_window: 1024, tokenizer: 'llama3' };
    const cases: Array<[unknown, number, string, string]> = [
      [{ ...base, pool: 'no-such-pool' }, 400, 'invalid_value', 'pool'],
      [{ ...base, aliases: [SEEDED] }, 409, 'conflict', 'aliases[0]'],
      [{ ...base, name: SEEDED }, 409, 'conflict', 'name'],
      [{ ...base, fallbacks: ['nope'] }, 400, 'invalid_value', 'fallbacks[0]'],
      [{ ...base, max_output_tokens: 2048 }, 400, 'invalid_value', 'max_output_tokens'],
      [{ ...base, context_window: 'big' }, 400, 'invalid_value', 'context_window'],
      [{ ...base, tokenizer: 'gpt2' }, 400, 'invalid_value', 'tokenizer'],
      [{ ...base, capabilities: { tools: 'yes' } }, 400, 'invalid_value', 'capabilities'],
      [{ ...base, input_price_per_mtok: -1 }, 400, 'invalid_value', 'input_price_per_mtok'],
      [{ ...base, name: 'has space' }, 400, 'invalid_value', 'name'],
      [{ ...base, colour: 'red' }, 400, 'unsupported_parameter', 'colour'],
      [{ pool: POOL, context_window: 1024, tokenizer: 'llama3' }, 400, 'missing_required_parameter', 'name'],
    ];
    for (const [body, status, code, param] of cases) {
      const res = await admin(a, 'POST', '/models', body);
      assert.equal(res.status, status, JSON.stringify([body, res.body]));
      assert.equal(res.body.error.code, code, JSON.stringify(res.body));
      assert.equal(res.body.error.param, param, JSON.stringify(res.body));
      assert.equal(res.body.error.type, 'invalid_request_error');
    }
    const rename = await admin(a, 'PATCH', `/models/${ADDED}`, { name: 'renamed' });
    assert.deepEqual([rename.status, rename.body.error.code, rename.body.error.param], [400, 'unsupported_parameter', 'name']);
    const missing = await admin(a, 'PATCH', `/models/nope-${suffix}`, { context_window: 10 });
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'model_not_found']);
    // An inference key (not a platform admin) may not read or change the catalogue.
    for (const [method, path] of [['GET', '/models'], ['POST', '/models'], ['DELETE', `/models/${ADDED}`]] as const) {
      const res = await admin(a, method, path, method === 'POST' ? base : undefined, a.apiKey);
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.error.type, 'permission_error');
    }
    assert.equal((await admin(b, 'GET', `/models/bad-${suffix}`)).status, 404, 'nothing was written');
  });

  it('deletes models: refused while another model falls back to it, then gone on every replica', async () => {
    const refused = await admin(a, 'DELETE', `/models/${SEEDED}`);
    assert.deepEqual([refused.status, refused.body.error.code], [409, 'conflict']);
    assert.match(refused.body.error.message, new RegExp(ADDED));
    const deleted = await admin(a, 'DELETE', `/models/${EXTRA}`);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.deleted, true);
    await eventually(async () => (await statusOf(chat(b, EXTRA))) === 404, 'replica B to stop serving the deleted model', 10_000, 5);
  });

  it('writes every change to the audit log, in the same transaction', async () => {
    const prisma = a.gateway.app.get(PrismaService);
    const rows = await prisma.auditLog.findMany({ where: { targetType: 'model', targetId: { in: [ADDED, EXTRA, SEEDED] } }, orderBy: { id: 'asc' } });
    assert.deepEqual(
      rows.map((r) => [r.action, r.targetId]),
      [['model.create', ADDED], ['model.update', ADDED], ['model.delete', EXTRA]],
    );
    assert.ok(rows.every((r) => r.actorKeyPrefix?.startsWith('sk-sy-')));
  });

  it('keeps admin edits and deletions over the config file across a restart', async () => {
    const edited = await admin(a, 'PATCH', `/models/${SEEDED}`, { context_window: 2048, input_price_per_mtok: 3 });
    assert.equal(edited.status, 200);
    await a.close();
    a = await bootGateway(catalogue); // the config still says 4096 for SEEDED and still lists EXTRA
    const seeded = await admin(a, 'GET', `/models/${SEEDED}`);
    assert.deepEqual([seeded.body.context_window, seeded.body.input_price_per_mtok], [2048, 3]);
    assert.equal((await admin(a, 'GET', `/models/${EXTRA}`)).status, 404);
    assert.equal((await chat(a, `${ADDED_ALIAS}-2`)).model, `${ADDED_ALIAS}-2`);
    // What the boot warning reports: config entries the stored rows override.
    const differs = await a.gateway.app.get(CatalogRepository).seed(catalogue);
    assert.deepEqual(differs, [
      { kind: 'model', name: SEEDED, deleted: false, fields: ['contextWindow', 'inputPricePerMTok'] },
      { kind: 'model', name: EXTRA, deleted: true, fields: [] },
    ]);
    // A deleted name can be created again, with the new definition.
    const revived = await admin(a, 'POST', '/models', { name: EXTRA, pool: POOL, context_window: 1024, tokenizer: 'llama3' });
    assert.equal(revived.status, 201, JSON.stringify(revived.body));
    assert.equal(revived.body.context_window, 1024);
    await eventually(async () => (await statusOf(chat(b, EXTRA))) === 200, 'replica B to serve the re-created model', 10_000, 5);
  });

  it('documents the endpoints on the admin OpenAPI page', async () => {
    const doc = (await (await fetch(`${a.url}/admin/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    assert.deepEqual(Object.keys(doc.paths['/admin/v1/models'] ?? {}).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(doc.paths['/admin/v1/models/{model}'] ?? {}).sort(), ['delete', 'get', 'patch']);
  });
});
