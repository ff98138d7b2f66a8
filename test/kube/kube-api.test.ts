/**
 * The test Kubernetes API server follows the real API where clients depend on it: the real kubectl's
 * discovery, get and scale; client-node's list/watch with resourceVersion, bookmarks and 410 Gone;
 * the scale subresource's put (with optimistic concurrency) and patch types; Status objects for errors.
 * No simulator runs here: the Deployments have no containers, so their pods never start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { eventually } from '../support/eventually.js';
import { TestCluster } from '../support/kube-api/cluster.js';
import { kubectl } from './support.js';

function emptyDeployment(cluster: TestCluster, name: string, replicas: number) {
  return cluster.store.create('deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: {} } },
    status: {},
  });
}

describe('test Kubernetes API server', () => {
  let cluster: TestCluster;
  let kc: KubeConfig;

  before(async () => {
    cluster = await TestCluster.start({ bookmarkIntervalMs: 50 });
    kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig());
  });
  after(() => cluster.stop());

  it('serves kubectl: get with discovery, scale, and NotFound for an unknown deployment', async () => {
    cluster.api.recordRequests = true;
    emptyDeployment(cluster, 'web', 1);
    await eventually(() => cluster.pods('default', { app: 'web' }).length === 1, 'the controller to create the pod');
    const pods = JSON.parse(await kubectl(cluster, 'get', 'pods', '-l', 'app=web', '-o', 'json')) as { items: Array<{ metadata: { name: string } }> };
    assert.deepEqual(pods.items.map((p) => p.metadata.name), cluster.pods('default', { app: 'web' }).map((p) => p.metadata.name));
    assert.match(await kubectl(cluster, 'scale', 'deployment/web', '--replicas=4'), /deployment.apps\/web scaled/);
    await eventually(() => cluster.pods('default', { app: 'web' }).length === 4, 'four pods');
    const deployment = JSON.parse(await kubectl(cluster, 'get', 'deployment', 'web', '-o', 'json')) as { spec: { replicas: number }; status: { replicas: number } };
    assert.equal(deployment.spec.replicas, 4);
    await assert.rejects(kubectl(cluster, 'scale', 'deployment/nope', '--replicas=1'), /deployments.apps "nope" not found/);
    // Aggregated discovery answered /api and /apis, so kubectl asked for no per-group resource list.
    assert.ok(cluster.api.requests.includes('GET /apis'));
    assert.deepEqual(cluster.api.requests.filter((r) => /^GET \/apis?\/[^/]+(\/v1)?$/.test(r) && !r.includes('namespaces')), []);
    assert.ok(cluster.api.requests.includes('PATCH /apis/apps/v1/namespaces/default/deployments/web/scale'));
    cluster.api.recordRequests = false;
  });

  it('answers the scale subresource: get, put with optimistic concurrency (409), merge and strategic-merge patch, 415 for JSON patch', async () => {
    emptyDeployment(cluster, 'api', 2);
    const apps = kc.makeApiClient(AppsV1Api);
    const scale = await apps.readNamespacedDeploymentScale({ name: 'api', namespace: 'default' });
    assert.equal(scale.spec!.replicas, 2);
    assert.equal(scale.status!.selector, 'app=api');
    await apps.replaceNamespacedDeploymentScale({ name: 'api', namespace: 'default', body: { ...scale, spec: { replicas: 3 } } });
    await assert.rejects(apps.replaceNamespacedDeploymentScale({ name: 'api', namespace: 'default', body: { ...scale, spec: { replicas: 5 } } }), (err: { code?: number; body?: string }) => {
      assert.equal(err.code, 409);
      assert.equal(JSON.parse(err.body!).reason, 'Conflict');
      return true;
    });
    await apps.patchNamespacedDeploymentScale({ name: 'api', namespace: 'default', body: { spec: { replicas: 0 } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    assert.equal(cluster.store.get('deployments', 'default', 'api')!.spec.replicas, 0);
    await assert.rejects(
      apps.patchNamespacedDeploymentScale({ name: 'api', namespace: 'default', body: [{ op: 'replace', path: '/spec/replicas', value: 1 }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)),
      (err: { code?: number }) => err.code === 415,
    );
    await assert.rejects(apps.readNamespacedDeploymentScale({ name: 'gone', namespace: 'default' }), (err: { code?: number; body?: string }) => err.code === 404 && JSON.parse(err.body!).reason === 'NotFound');
  });

  it('watches from a resourceVersion with bookmarks, and answers 410 Gone for one older than its window', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
    const from = list.metadata!.resourceVersion!;
    const seen: Array<{ type: string; rv?: string; code?: number }> = [];
    let ended = false;
    const watch = new Watch(kc);
    const request = await watch.watch(
      '/api/v1/namespaces/default/pods',
      { resourceVersion: from, labelSelector: 'app=web', allowWatchBookmarks: true },
      (type, obj) => seen.push({ type, rv: obj.metadata?.resourceVersion, code: obj.code }),
      () => (ended = true),
    );
    await kubectl(cluster, 'scale', 'deployment/web', '--replicas=5');
    await eventually(() => seen.some((e) => e.type === 'ADDED') && seen.some((e) => e.type === 'BOOKMARK'), 'an ADDED event and a bookmark');
    // Events come after the version watched from; bookmarks carry the latest version (perhaps that one).
    assert.ok(seen.every((e) => (e.type === 'BOOKMARK' ? Number(e.rv) >= Number(from) : Number(e.rv) > Number(from))), JSON.stringify(seen));
    request.abort();

    cluster.store.compact();
    const expired: Array<{ type: string; code?: number }> = [];
    await watch.watch('/api/v1/namespaces/default/pods', { resourceVersion: from }, (type, obj) => expired.push({ type, code: obj.code }), () => undefined);
    await eventually(() => expired.length > 0, 'the expiry');
    assert.deepEqual(expired, [{ type: 'ERROR', code: 410 }]);
    assert.equal(ended, true);
  });
});
