/**
 * A pool declared by a Gateway API Inference Extension InferencePool (inference.networking.k8s.io/v1):
 * the gateway reads its selector and target port, discovers its pods, and follows a change of the
 * InferencePool to other pods. Two gateway replicas watch independently (active-active).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { FAST, SERVED } from '../scheduling/support.js';
import type { TestGateway } from '../support/harness.js';
import { uniqueSuffix } from '../support/harness.js';
import { isReady, TestCluster } from '../support/kube-api/cluster.js';
import { bootKubeGateway, fleetPods, kubeCatalogue } from './support.js';

const suffix = uniqueSuffix();
const POOL = `ip-${suffix}`;
const MODEL = `ip-chat-${suffix}`;

describe('InferencePool discovery', () => {
  let cluster: TestCluster;
  const gateways: TestGateway[] = [];

  const ready = (app: string) => cluster.pods('default', { app }).filter(isReady).map((p) => p.metadata.name).sort();
  const seen = (gw: TestGateway) => fleetPods(gw, POOL).filter((p) => p.state === 'ready').map((p) => p.id).sort();

  before(async () => {
    cluster = await TestCluster.start({ bookmarkIntervalMs: 200 });
    cluster.createDeployment({ name: 'blue', replicas: 2, servedModel: SERVED, profile: FAST, labels: { app: 'blue', 'llm-d.ai/role': 'decode' } });
    cluster.createDeployment({ name: 'green', replicas: 1, servedModel: SERVED, profile: FAST, labels: { app: 'green', 'llm-d.ai/role': 'decode' } });
    cluster.createInferencePool(POOL, { app: 'blue' }, cluster.podPort);
    await eventually(() => ready('blue').length === 2 && ready('green').length === 1, 'the pods to be Ready', 90_000);
    const catalogue = kubeCatalogue([{ pool: POOL, model: MODEL, inferencePool: POOL, servedModel: SERVED }]);
    gateways.push(await bootKubeGateway(cluster, catalogue), await bootKubeGateway(cluster, catalogue));
  });

  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await cluster?.stop();
  });

  it("discovers the InferencePool's pods on its target port, on every gateway replica", async () => {
    for (const gw of gateways) {
      assert.deepEqual(seen(gw), ready('blue'));
      assert.ok(fleetPods(gw, POOL).every((p) => p.baseUrl.endsWith(`:${cluster.podPort}`)));
      const reply = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
      assert.ok(reply.usage!.completion_tokens > 0);
    }
  });

  it('follows a changed selector to the other pods', async () => {
    const obj = cluster.store.get('inferencepools', 'default', POOL)!;
    cluster.store.update('inferencepools', { ...obj, spec: { ...obj.spec, selector: { matchLabels: { app: 'green' } } } }, true);
    for (const gw of gateways) await eventually(() => seen(gw).join() === ready('green').join(), 'the green pod alone in rotation');
    const reply = await gateways[0]!.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi again' }], max_tokens: 3 });
    assert.ok(reply.usage!.completion_tokens > 0);
  });

  it('refuses to boot when the InferencePool does not exist', async () => {
    await assert.rejects(bootKubeGateway(cluster, kubeCatalogue([{ pool: `missing-${suffix}`, model: `m-${suffix}`, inferencePool: 'nope', servedModel: SERVED }])), /inferencepools\/nope in default not found/);
  });
});
