/**
 * Pools at run time: two gateway replicas sharing PostgreSQL and Redis, two simulator pods. A static
 * pool created through replica A's admin API, and a model on it, are served by both replicas without a
 * restart; moving the pool's endpoints to the other pod moves the traffic; a pool is not deleted while
 * a model names it; admin edits of a configured pool win over the config file across a restart; every
 * change is audited; bad input gets OpenAI's error object naming the field.
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
import { podServed } from '../scheduling/support.js';

const SERVED = 'meta-llama/Llama-3.2-1B-Instruct';
const suffix = uniqueSuffix();
const CONFIGURED = `cfg-${suffix}`;
const CONFIGURED_MODEL = `cfg-model-${suffix}`;
const POOL = `rt-${suffix}`;
const MODEL = `rt-model-${suffix}`;

let podA: SimPod;
let podB: SimPod;
let catalogue: CatalogueConfig;
let a: TestGateway;
let b: TestGateway;

const poolOf = async (gw: TestGateway, name: string) => ((await admin(gw, 'GET', '/pools')).body.data as any[]).find((p) => p.name === name);

before(async () => {
  const spawn = () => spawnSimPod({ model: SERVED, profile: SIM_PROFILE, args: ['--max-model-len', '4096'], startTimeoutMs: 180_000 });
  [podA, podB] = await Promise.all([spawn(), spawn()]);
  catalogue = parseCatalogue(
    {
      pools: [{ name: CONFIGURED, runtime: 'sim', provider: 'static', servedModel: SERVED, endpoints: [podA.baseUrl] }],
      models: [{ name: CONFIGURED_MODEL, pool: CONFIGURED, contextWindow: 4096, tokenizer: 'llama3' }],
    },
    'pools test',
  );
  [a, b] = await bootGateways(2, catalogue);
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([podA?.stop(), podB?.stop()]);
});

describe('pools through the admin API, two replicas', () => {
  it('creates a static pool and a model on it on A; both replicas serve it without a restart', async () => {
    const created = await admin(a, 'POST', '/pools', { name: POOL, runtime: 'sim', provider: 'static', servedModel: SERVED, endpoints: [podA.baseUrl] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.name, POOL);
    assert.equal(created.body.provider, 'static');
    assert.deepEqual(created.body.pods.map((p: any) => p.url), [podA.baseUrl]);
    await eventually(async () => (await poolOf(b, POOL))?.pods.length === 1, 'replica B to start the new pool', 10_000, 5);
    const model = await admin(a, 'POST', '/models', { name: MODEL, pool: POOL, context_window: 4096, tokenizer: 'llama3' });
    assert.equal(model.status, 201, JSON.stringify(model.body));
    await eventually(async () => (await statusOf(chat(b, MODEL))) === 200, 'replica B to serve the model on the new pool', 10_000, 5);
    assert.equal((await chat(a, MODEL)).model, MODEL);
  });

  it('moves traffic when the pool is pointed at another pod (PATCH on B)', async () => {
    const patched = await admin(b, 'PATCH', `/pools/${POOL}`, { endpoints: [podB.baseUrl] });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.pods.map((p: any) => p.url), [podB.baseUrl]);
    await eventually(async () => (await poolOf(a, POOL))?.pods.every((p: any) => p.url === podB.baseUrl), 'replica A to move the pool to pod B', 10_000, 5);
    const [servedA, servedB] = [await podServed(podA), await podServed(podB)];
    for (const gw of [a, b, a, b]) assert.equal((await chat(gw, MODEL)).model, MODEL);
    assert.equal(await podServed(podB), servedB + 4, 'every request went to pod B');
    assert.equal(await podServed(podA), servedA, 'pod A got none');
  });

  it('refuses invalid pools with OpenAI error objects naming the field', async () => {
    const base = { name: `bad-${suffix}`, runtime: 'vllm', provider: 'static', servedModel: SERVED, endpoints: ['http://127.0.0.1:9'] };
    const cases: Array<[unknown, number, string, string | null]> = [
      [{ ...base, name: POOL }, 409, 'conflict', 'name'],
      [{ ...base, runtime: 'ollama' }, 400, 'invalid_value', 'runtime'],
      [{ ...base, provider: 'local', endpoints: undefined, sim: { profile: SIM_PROFILE } }, 400, 'invalid_value', 'provider'],
      [{ ...base, endpoints: [] }, 400, 'invalid_value', 'endpoints'],
      [{ ...base, endpoints: ['ftp://x'] }, 400, 'invalid_value', 'endpoints[0]'],
      [{ ...base, provider: 'kubernetes', endpoints: undefined, kubernetes: { namespace: 'default', selector: { app: 'x' } } }, 400, 'invalid_value', 'kubernetes'],
      [{ ...base, provider: 'kubernetes', endpoints: undefined, kubernetes: { namespace: 'default', selector: { app: 'x' }, port: 70_000 } }, 400, 'invalid_value', 'kubernetes.port'],
      [{ ...base, colour: 'red' }, 400, 'unsupported_parameter', 'colour'],
      [{ ...base, servedModel: undefined }, 400, 'missing_required_parameter', 'servedModel'],
    ];
    for (const [body, status, code, param] of cases) {
      const res = await admin(a, 'POST', '/pools', body);
      assert.equal(res.status, status, JSON.stringify([body, res.body]));
      assert.deepEqual([res.body.error.code, res.body.error.param, res.body.error.type], [code, param, 'invalid_request_error'], JSON.stringify(res.body));
    }
    const rename = await admin(a, 'PATCH', `/pools/${POOL}`, { name: 'renamed' });
    assert.deepEqual([rename.status, rename.body.error.param], [400, 'name']);
    const missing = await admin(a, 'PATCH', `/pools/nope-${suffix}`, { endpoints: [podA.baseUrl] });
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'not_found']);
    for (const [method, path] of [['POST', '/pools'], ['PATCH', `/pools/${POOL}`], ['DELETE', `/pools/${POOL}`]] as const) {
      const res = await admin(a, method, path, method === 'DELETE' ? undefined : base, a.apiKey);
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.error.type, 'permission_error');
    }
    assert.equal(await poolOf(b, `bad-${suffix}`), undefined, 'nothing was written');
  });

  it('deletes a pool: refused while a model names it, then drained on every replica', async () => {
    const refused = await admin(a, 'DELETE', `/pools/${POOL}`);
    assert.deepEqual([refused.status, refused.body.error.code, refused.body.error.param], [409, 'conflict', 'pool']);
    assert.match(refused.body.error.message, new RegExp(MODEL));
    assert.equal((await admin(a, 'DELETE', `/models/${MODEL}`)).status, 200);
    const deleted = await admin(a, 'DELETE', `/pools/${POOL}`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal(deleted.body.deleted, true);
    assert.equal(await poolOf(a, POOL), undefined);
    await eventually(async () => (await poolOf(b, POOL)) === undefined, 'replica B to stop the deleted pool', 10_000, 5);
    assert.equal((await admin(b, 'PATCH', `/pools/${POOL}`, { endpoints: [podA.baseUrl] })).status, 404);
  });

  it('writes every change to the audit log', async () => {
    const prisma = a.gateway.app.get(PrismaService);
    const rows = await prisma.auditLog.findMany({ where: { targetType: 'pool', targetId: POOL }, orderBy: { id: 'asc' } });
    assert.deepEqual(
      rows.map((r) => r.action),
      ['pool.create', 'pool.update', 'pool.delete'],
    );
    assert.ok(rows.every((r) => r.actorKeyPrefix?.startsWith('sk-sy-')));
  });

  it("keeps the admin's edit of a configured pool over the config file across a restart", async () => {
    const edited = await admin(a, 'PATCH', `/pools/${CONFIGURED}`, { endpoints: [podB.baseUrl] });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    await a.close();
    a = await bootGateway(catalogue); // the config still points the pool at pod A
    assert.deepEqual((await poolOf(a, CONFIGURED)).pods.map((p: any) => p.url), [podB.baseUrl]);
    const before = await podServed(podB);
    assert.equal((await chat(a, CONFIGURED_MODEL)).model, CONFIGURED_MODEL);
    assert.equal(await podServed(podB), before + 1);
    // What the boot warning reports: the config entry the stored row overrides.
    const differs = await a.gateway.app.get(CatalogRepository).seed(catalogue);
    assert.deepEqual(differs, [{ kind: 'pool', name: CONFIGURED, deleted: false, fields: ['template'] }]);
  });

  it('documents the endpoints on the admin OpenAPI page', async () => {
    const doc = (await (await fetch(`${a.url}/admin/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    assert.deepEqual(Object.keys(doc.paths['/admin/v1/pools'] ?? {}).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(doc.paths['/admin/v1/pools/{pool}'] ?? {}).sort(), ['delete', 'patch']);
  });
});
