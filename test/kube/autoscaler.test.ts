/**
 * The autoscaler end to end: two gateway replicas in front of a Deployment of the test API server,
 * simulator pods, the openai SDK as client, the real kubectl as the operator. One replica leads; demand
 * split over both is summed through Redis and scales the Deployment; it scales back down after the
 * stabilization window; the survivor takes over when the leader goes; an operator's annotation pauses it.
 * Times are compressed (interval 250 ms, lease 1.5 s, down window 1.5 s); the decisions themselves are
 * tested on virtual time in src/autoscaler/scaling-policy.spec.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoscalerService } from '../../src/autoscaler/index.js';
import { eventually, sample } from '../support/eventually.js';
import { SERVED, SLOW } from '../scheduling/support.js';
import type { TestGateway } from '../support/harness.js';
import { uniqueSuffix } from '../support/harness.js';
import { isReady, TestCluster } from '../support/kube-api/cluster.js';
import { bootKubeGateway, kubeCatalogue, kubectl } from './support.js';

const suffix = uniqueSuffix();
const POOL = `auto-${suffix}`;
const MODEL = `auto-chat-${suffix}`;
const LEASE_MS = 1_500;

describe('autoscaler, end to end', () => {
  let cluster: TestCluster;
  const gws: TestGateway[] = [];
  const closed = new Set<TestGateway>();

  const spec = () => cluster.store.get('deployments', 'default', POOL)!.spec.replicas as number;
  const readyPods = () => cluster.pods('default', { app: POOL }).filter((p) => isReady(p) && !p.metadata.deletionTimestamp);
  const leaders = () => gws.filter((g) => !closed.has(g) && g.gateway.app.get(AutoscalerService).isLeader());
  const metrics = async (gw: TestGateway) => (await fetch(`${gw.url}/metrics`)).text();
  /** Streams held open on `gw` until each finishes (a slow profile and long answers keep them in flight). */
  const streams = (gw: TestGateway, n: number, tag: string) =>
    Array.from({ length: n }, async (_, i) => {
      const stream = await gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `${tag} ${i}` }], max_tokens: 250, stream: true });
      let chunks = 0;
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) chunks++;
      return chunks;
    });

  before(async () => {
    cluster = await TestCluster.start({ bookmarkIntervalMs: 200 });
    cluster.createDeployment({ name: POOL, replicas: 1, servedModel: SERVED, profile: SLOW, startupDelayMs: 300, terminationGraceSeconds: 20, args: ['--max-model-len', '8192'] });
    await eventually(() => readyPods().length === 1, 'the first pod to be Ready', 90_000);
    const catalogue = kubeCatalogue([
      {
        pool: POOL,
        model: MODEL,
        deployment: POOL,
        selector: { app: POOL },
        port: cluster.podPort,
        servedModel: SERVED,
        autoscaling: {
          minReplicas: 1,
          maxReplicas: 3,
          targetInFlightPerPod: 2,
          podStartupMs: 1_000,
          trendWindowMs: 2_000,
          cooldownMs: 0,
          scaleUp: { stabilizationMs: 0, maxStepPods: 4, periodMs: 0 },
          scaleDown: { stabilizationMs: 1_500, maxStepPods: 1, periodMs: 0 },
        },
      },
    ]);
    const env = { SWITCHYARD_AUTOSCALER_INTERVAL_MS: '250', SWITCHYARD_AUTOSCALER_LEASE_MS: String(LEASE_MS) };
    gws.push(await bootKubeGateway(cluster, catalogue, env));
    gws.push(await bootKubeGateway(cluster, catalogue, env));
  });

  after(async () => {
    for (const gw of gws) if (!closed.has(gw)) await gw.close();
    await cluster?.stop();
  });

  it('elects exactly one of the gateway replicas', async () => {
    await eventually(() => leaders().length === 1, 'one leader', 10_000);
    const flags = await Promise.all(gws.map(async (g) => sample(await metrics(g), 'switchyard_autoscaler_leader')));
    assert.deepEqual(flags.sort(), [0, 1]);
  });

  it('scales up on demand summed over both replicas, then down after the stabilization window, one pod at a time', async () => {
    // Every count written to the Deployment, in order.
    const history: number[] = [];
    const unsubscribe = cluster.store.subscribe((e) => {
      if (e.resource === 'deployments' && e.object.metadata.name === POOL && e.object.spec.replicas !== history.at(-1)) history.push(e.object.spec.replicas);
    });
    // 3 streams on each replica: each alone is 2 pods' worth (target 2 per pod), together 3.
    const held = [...streams(gws[0]!, 3, 'a'), ...streams(gws[1]!, 3, 'b')];
    await eventually(() => spec() === 3, 'the Deployment to be scaled to 3', 30_000);
    const leader = leaders()[0]!;
    const text = await metrics(leader);
    assert.equal(sample(text, 'switchyard_autoscaler_signal', { pool: POOL, signal: 'gateways' }), 2);
    assert.ok(sample(text, 'switchyard_autoscaler_scale_events_total', { pool: POOL, reason: 'demand' }) + sample(text, 'switchyard_autoscaler_scale_events_total', { pool: POOL, reason: 'look-ahead' }) >= 1);
    for (const chunks of await Promise.all(held)) assert.ok(chunks > 0);
    await eventually(() => spec() === 1, 'the Deployment back at minReplicas', 30_000);
    unsubscribe();
    assert.deepEqual(history, [3, 2, 1], 'straight up to what the demand needs, down one pod per decision');
  });

  it('fails over to the other replica when the leader goes, which then scales on new demand', async () => {
    const [leader] = leaders();
    const survivor = gws.find((g) => g !== leader)!;
    const gone = performance.now();
    closed.add(leader!);
    await leader!.close();
    await eventually(() => survivor.gateway.app.get(AutoscalerService).isLeader(), 'the survivor to lead', 15_000);
    assert.ok(performance.now() - gone < 15_000);
    const held = streams(survivor, 6, 'c');
    await eventually(() => spec() === 3, 'the survivor to scale the Deployment to 3', 30_000);
    await Promise.all(held);
  });

  it('leaves a Deployment annotated switchyard.io/autoscaling=paused alone, and takes it back when the annotation goes', async () => {
    const [leader] = leaders();
    await kubectl(cluster, 'annotate', `deployment/${POOL}`, 'switchyard.io/autoscaling=paused', '-n', 'default');
    await eventually(async () => sample(await metrics(leader!), 'switchyard_autoscaler_decisions_total', { pool: POOL, reason: 'paused' }) > 0, 'a paused decision');
    // An operator's change while paused stands.
    await kubectl(cluster, 'scale', `deployment/${POOL}`, '--replicas=3', '-n', 'default');
    const before = sample(await metrics(leader!), 'switchyard_autoscaler_decisions_total', { pool: POOL, reason: 'paused' });
    // Idle: unpaused, the count would fall within the 1.5 s window (6 decisions); wait for 12 paused ones.
    await eventually(async () => sample(await metrics(leader!), 'switchyard_autoscaler_decisions_total', { pool: POOL, reason: 'paused' }) >= before + 12, 'twelve paused decisions', 20_000);
    assert.equal(spec(), 3);
    await kubectl(cluster, 'annotate', `deployment/${POOL}`, 'switchyard.io/autoscaling-', '-n', 'default');
    await eventually(() => spec() === 1, 'the Deployment back at minReplicas once unpaused', 30_000);
  });
});
