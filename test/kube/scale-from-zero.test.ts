/**
 * Scale from zero and to zero, end to end: a Deployment at 0 replicas behind an autoscaled pool, pods
 * that take 2 s to start (model loading, compressed), the openai SDK as client. A request to the cold
 * pool waits in the gateway's queue, the autoscaler asks for a pod at once, and the answer comes when
 * the pod is Ready, marked `x-switchyard-cold-start: true`; idle, the pool goes back to zero; past the
 * class deadline the client gets 503 with retry-after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APIError } from 'openai';
import { eventually } from '../support/eventually.js';
import { SERVED, FAST } from '../scheduling/support.js';
import type { TestGateway } from '../support/harness.js';
import { uniqueSuffix } from '../support/harness.js';
import { isReady, TestCluster } from '../support/kube-api/cluster.js';
import { bootKubeGateway, kubeCatalogue, kubectl } from './support.js';

const suffix = uniqueSuffix();
const POOL = `zero-${suffix}`;
const MODEL = `zero-chat-${suffix}`;
const STARTUP_MS = 2_000;

describe('scale from zero, scale to zero', () => {
  let cluster: TestCluster;
  let gw: TestGateway;
  const spec = () => cluster.store.get('deployments', 'default', POOL)!.spec.replicas as number;
  const readyPods = () => cluster.pods('default', { app: POOL }).filter((p) => isReady(p) && !p.metadata.deletionTimestamp);
  const ask = (content: string) => gw.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 8, stream: true }, { timeout: 90_000 }).withResponse();

  before(async () => {
    cluster = await TestCluster.start({ bookmarkIntervalMs: 200 });
    cluster.createDeployment({ name: POOL, replicas: 0, servedModel: SERVED, profile: FAST, startupDelayMs: STARTUP_MS, terminationGraceSeconds: 5, args: ['--max-model-len', '8192'] });
    const catalogue = kubeCatalogue([
      {
        pool: POOL,
        model: MODEL,
        deployment: POOL,
        selector: { app: POOL },
        port: cluster.podPort,
        servedModel: SERVED,
        autoscaling: { minReplicas: 0, maxReplicas: 2, idleToZeroMs: 3_000, podStartupMs: STARTUP_MS, cooldownMs: 0 },
      },
    ]);
    gw = await bootKubeGateway(cluster, catalogue, {
      SWITCHYARD_AUTOSCALER_INTERVAL_MS: '250',
      SWITCHYARD_AUTOSCALER_LEASE_MS: '1500',
      // Long enough for a cold start on a loaded 2-core machine (a pod start took over 20 s there).
      SWITCHYARD_SCHED_TIMEOUT_INTERACTIVE_MS: '60000',
    });
  });

  after(async () => {
    await gw?.close();
    await cluster?.stop();
  });

  it('holds a request to a pool at zero until its first pod is Ready, says so in a header, and streams the answer', async (t) => {
    assert.equal(spec(), 0);
    const sent = performance.now();
    const { data: stream, response } = await ask('wake up');
    const firstByteMs = performance.now() - sent;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-switchyard-cold-start'), 'true');
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.ok(text.length > 0);
    assert.equal(spec(), 1, 'one pod for one request');
    assert.equal(readyPods().length, 1);
    t.diagnostic(`cold-start time to first byte: ${firstByteMs.toFixed(0)} ms (pod start-up delay ${STARTUP_MS} ms)`);
    assert.ok(firstByteMs >= STARTUP_MS, `answered after ${firstByteMs.toFixed(0)} ms, before the pod could have started`);
    // Warm now: no header.
    const warm = await ask('again');
    for await (const _ of warm.data);
    assert.equal(warm.response.headers.get('x-switchyard-cold-start'), null);
  });

  it('scales the idle pool back to zero after idleToZeroMs', async () => {
    await eventually(() => spec() === 0, 'the Deployment at zero', 20_000);
    await eventually(() => readyPods().length === 0, 'the pod gone', 20_000);
  });

  it('answers 503 with retry-after and the cold-start header when no pod is Ready within the class deadline', async () => {
    // Paused at zero: nothing will start, so the request waits out its 60 s deadline.
    await kubectl(cluster, 'annotate', `deployment/${POOL}`, 'switchyard.io/autoscaling=paused', '-n', 'default');
    const err = await ask('nobody home').then(
      () => assert.fail('expected a 503'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof APIError, String(err));
    assert.equal(err.status, 503);
    assert.deepEqual([(err.error as { type?: string }).type, err.code], ['service_unavailable', 'model_overloaded']);
    assert.equal(err.headers?.get('retry-after'), String(STARTUP_MS / 1000));
    assert.equal(err.headers?.get('x-switchyard-cold-start'), 'true');
    assert.equal(spec(), 0);
  });
});
