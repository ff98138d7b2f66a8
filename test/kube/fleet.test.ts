/**
 * End to end with the kubernetes provider: a gateway whose pool is a Deployment in the test API server,
 * simulator pods run by the test kubelet on their own loopback addresses, the official openai SDK as
 * the client and the real kubectl as the operator. One cluster and one gateway; the steps run in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, sample } from '../support/eventually.js';
import { chatStream, metric, SERVED, SLOW } from '../scheduling/support.js';
import type { TestGateway } from '../support/harness.js';
import { createTenant, uniqueSuffix } from '../support/harness.js';
import { isReady, TestCluster } from '../support/kube-api/cluster.js';
import { bootKubeGateway, fleetPods, kubeCatalogue, kubectl, podState } from './support.js';

const suffix = uniqueSuffix();
const POOL = `llama-${suffix}`;
const MODEL = `kube-chat-${suffix}`;

describe('kubernetes provider, end to end', () => {
  let cluster: TestCluster;
  let gw: TestGateway;

  const readyPods = () => cluster.pods('default', { app: POOL }).filter((p) => isReady(p) && !p.metadata.deletionTimestamp);
  const gatewayReady = () => fleetPods(gw, POOL).filter((p) => p.state === 'ready');
  const served = async (ip: string) => metric(await (await fetch(`http://${ip}:${cluster.podPort}/metrics`)).text(), 'vllm:prompt_tokens_total');
  const ask = (content: string) => gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 4 });

  before(async () => {
    cluster = await TestCluster.start({ bookmarkIntervalMs: 200 });
    // The slow profile keeps streams in flight long enough to scale down under them.
    cluster.createDeployment({ name: POOL, replicas: 1, servedModel: SERVED, profile: SLOW, startupDelayMs: 300, terminationGraceSeconds: 20, args: ['--max-model-len', '8192'] });
    await eventually(() => readyPods().length === 1, 'the first pod to be Ready', 90_000);
    gw = await bootKubeGateway(cluster, kubeCatalogue([{ pool: POOL, model: MODEL, deployment: POOL, selector: { app: POOL }, port: cluster.podPort, servedModel: SERVED }]));
  });

  after(async () => {
    await gw?.close();
    await cluster?.stop();
  });

  it('boots knowing the Ready pod and serves through it with the openai SDK', async () => {
    const [pod] = readyPods();
    assert.deepEqual(
      fleetPods(gw, POOL).map((p) => [p.id, p.baseUrl, p.state]),
      [[pod!.metadata.name, `http://${pod!.status.podIP}:${cluster.podPort}`, 'ready']],
    );
    const reply = await ask('hello');
    assert.equal(reply.model, MODEL);
    assert.ok(reply.usage!.prompt_tokens > 0);
  });

  it('follows `kubectl scale` up: new pods join rotation once Ready and get requests', async () => {
    const out = await kubectl(cluster, 'scale', `deployment/${POOL}`, '--replicas=3', '-n', 'default');
    assert.match(out, new RegExp(`deployment.apps/${POOL} scaled`));
    assert.equal(cluster.store.get('deployments', 'default', POOL)!.spec.replicas, 3);
    // Starting pods (model loading) are not in rotation.
    await eventually(() => cluster.pods('default', { app: POOL }).length === 3, 'the controller to create two pods');
    assert.equal(gatewayReady().length, readyPods().length);
    await eventually(() => gatewayReady().length === 3, 'three pods in rotation', 90_000);
    const ips = readyPods().map((p) => p.status.podIP as string);
    assert.equal(new Set(ips).size, 3);
    await Promise.all(Array.from({ length: 12 }, (_, i) => ask(`spread ${i}`)));
    for (const ip of ips) assert.ok((await served(ip)) > 0, `pod ${ip} served nothing`);
  });

  it('scales down through the admin API under streaming load: streams finish, removed pods take nothing new, the change is audited', async () => {
    const streams = Array.from({ length: 9 }, (_, i) => chatStream(gw, gw.apiKey, { model: MODEL, messages: [{ role: 'user', content: `stream ${i}` }], max_tokens: 40 }));
    // Every pod has streams in flight before the scale-down.
    await eventually(() => fleetPods(gw, POOL).every((p) => p.inFlight > 0), 'streams on every pod', 30_000);
    const res = await fetch(`${gw.url}/admin/v1/pools/${POOL}/replicas`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${gw.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ replicas: 1 }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const view = (await res.json()) as { replicas: { desired: number }; name: string };
    assert.equal(view.name, POOL);
    assert.equal(view.replicas.desired, 1);
    await eventually(() => cluster.pods('default', { app: POOL }).filter((p) => p.metadata.deletionTimestamp).length === 2, 'two pods terminating');
    const terminating = cluster.pods('default', { app: POOL }).filter((p) => p.metadata.deletionTimestamp).map((p) => p.metadata.name);
    await eventually(() => terminating.every((id) => podState(gw, POOL, id) === 'draining' || podState(gw, POOL, id) === undefined), 'the terminating pods to drain in the gateway');
    // New requests meanwhile go to the pod that stays.
    await Promise.all(Array.from({ length: 4 }, (_, i) => ask(`during drain ${i}`)));
    const results = await Promise.all(streams);
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.midStreamError, undefined);
      assert.equal(r.done, true);
      assert.equal(r.events.filter((e) => typeof e === 'object' && e.choices?.[0]?.finish_reason).length, 1);
    }
    await eventually(() => fleetPods(gw, POOL).length === 1, 'the drained pods to leave the fleet', 20_000);
    const audit = await fetch(`${gw.url}/admin/v1/audit-log?limit=5`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
    const entries = ((await audit.json()) as { data: Array<{ action: string; target_type?: string; target_id?: string; details: Record<string, unknown> }> }).data;
    const entry = entries.find((e) => e.action === 'pool.scale');
    assert.ok(entry, JSON.stringify(entries));
    assert.deepEqual(entry.details, { replicas: 1, previous: 3 });
  });

  it('shows pools to admins and refuses bad scale requests with OpenAI errors', async () => {
    const admin = (key: string, path: string, init: RequestInit = {}) =>
      fetch(`${gw.url}/admin/v1/pools${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
    const list = (await (await admin(gw.adminKey, '')).json()) as { object: string; data: any[] };
    assert.equal(list.object, 'list');
    const pool = list.data.find((p) => p.name === POOL);
    assert.deepEqual({ ...pool, pods: undefined }, { object: 'pool', name: POOL, runtime: 'sim', provider: 'kubernetes', replicas: { desired: 1, current: 1, ready: 1 }, queue_depth: 0, pods: undefined });
    assert.equal(pool.pods.length, 1);
    assert.equal(pool.pods[0].state, 'ready');
    assert.equal(typeof pool.pods[0].kv_cache_usage, 'number');
    const put = (key: string, name: string, body: unknown) => admin(key, `/${name}/replicas`, { method: 'PUT', body: JSON.stringify(body) });
    const bad = await put(gw.adminKey, POOL, { replicas: -1 });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).error.param, 'replicas');
    const unknown = await put(gw.adminKey, 'no-such-pool', { replicas: 1 });
    assert.equal(unknown.status, 404);
    assert.deepEqual(((await unknown.json()) as any).error.param, 'pool');
    const orgAdmin = await createTenant(gw.gateway, { scopes: ['org_admin'] });
    assert.equal((await admin(orgAdmin.apiKey, '')).status, 200);
    const denied = await put(orgAdmin.apiKey, POOL, { replicas: 2 });
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as any).error.type, 'permission_error');
    assert.equal(cluster.store.get('deployments', 'default', POOL)!.spec.replicas, 1);
  });

  it('keeps serving while the API server is down, and picks up changes made meanwhile once it is back', async () => {
    const watchConnected = async () => sample(await (await fetch(`${gw.url}/metrics`)).text(), 'switchyard_kubernetes_watch_connected', { pool: POOL, resource: 'pods' });
    assert.equal(await watchConnected(), 1);
    await cluster.api.stop();
    await eventually(async () => (await watchConnected()) === 0, 'the watch to be reported down');
    for (let i = 0; i < 3; i++) await ask(`api down ${i}`);
    const scale = await fetch(`${gw.url}/admin/v1/pools/${POOL}/replicas`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${gw.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ replicas: 2 }),
    });
    assert.equal(scale.status, 503);
    const error = ((await scale.json()) as { error: { type: string; code: string; message: string } }).error;
    assert.equal(error.type, 'service_unavailable');
    assert.equal(error.code, 'fleet_unavailable');
    const pools = (await (await fetch(`${gw.url}/admin/v1/pools`, { headers: { authorization: `Bearer ${gw.adminKey}` } })).json()) as { data: Array<{ name: string; replicas: unknown; pods: unknown[] }> };
    const pool = pools.data.find((p) => p.name === POOL)!;
    assert.equal(pool.replicas, null); // the Deployment cannot be read; the pods are the last known
    assert.equal(pool.pods.length, 1);
    // A change the gateway cannot see yet (the controller works on the store, as it would with etcd).
    cluster.store.update('deployments', { ...cluster.store.get('deployments', 'default', POOL)!, spec: { ...cluster.store.get('deployments', 'default', POOL)!.spec, replicas: 2 } }, true);
    await eventually(() => readyPods().length === 2, 'a second pod to be Ready', 90_000);
    assert.equal(gatewayReady().length, 1);
    await cluster.api.start();
    await eventually(() => gatewayReady().length === 2, 'the watch to resume and report the new pod', 20_000);
    assert.equal(await watchConnected(), 1);
  });

  it('re-lists after the watch window expired (410 Gone) and reports what changed', async () => {
    await cluster.api.stop();
    cluster.store.update('deployments', { ...cluster.store.get('deployments', 'default', POOL)!, spec: { ...cluster.store.get('deployments', 'default', POOL)!.spec, replicas: 1 } }, true);
    await eventually(() => cluster.pods('default', { app: POOL }).length === 1, 'the extra pod to be gone', 20_000);
    cluster.store.compact();
    await cluster.api.start();
    await eventually(() => fleetPods(gw, POOL).length === 1, 'the re-list to drop the deleted pod', 20_000);
    assert.equal(fleetPods(gw, POOL)[0]!.id, readyPods()[0]!.metadata.name);
  });

  it('replaces a killed pod, and the replacement joins rotation', async () => {
    const [victim] = readyPods();
    cluster.kubelet.processOf('default', victim!.metadata.name)!.kill('SIGKILL');
    await eventually(() => readyPods().length === 1 && readyPods()[0]!.metadata.name !== victim!.metadata.name, 'a replacement pod to be Ready', 90_000);
    const replacement = readyPods()[0]!.metadata.name;
    await eventually(() => gatewayReady().map((p) => p.id).join() === replacement, 'the replacement in rotation and the killed pod gone');
    const reply = await ask('after the kill');
    assert.ok(reply.usage!.completion_tokens > 0);
  });
});
