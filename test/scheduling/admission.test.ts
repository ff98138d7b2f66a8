/**
 * Admission against a saturated pool: requests wait in the gateway, not in the runtime; the queue is
 * bounded (per pool: 503, per organization: 429), waiting is bounded by the class's queue timeout
 * (503), every refusal carries retry-after, and a client that gives up leaves the queue without ever
 * reaching a pod. Interactive requests go before flex ones.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTenant, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { SLOW, boot, catalogue, chat, eventually, gatewayMetrics, metric, podMetrics, sleep, startPods, type SimPod } from './support.js';

/** ~100 decode steps of ~17 ms: a request that holds the pod's only slot for ~1.7 s. */
const LONG = { max_tokens: 100, ignore_eos: true };

describe('a saturated pool', () => {
  let pod: SimPod;
  let gw: TestGateway;
  let model: string;
  let pool: string;

  before(async () => {
    [pod] = await startPods(1, SLOW);
    const suffix = uniqueSuffix();
    model = `m-${suffix}`;
    pool = `sat-${suffix}`;
    gw = await boot(catalogue([{ name: pool, endpoints: [pod.baseUrl] }], [{ name: model, pool }]), {
      SWITCHYARD_SCHED_MAX_IN_FLIGHT_PER_POD: '1',
      SWITCHYARD_SCHED_MAX_QUEUED: '3',
      SWITCHYARD_SCHED_MAX_QUEUED_PER_ORG: '2',
      SWITCHYARD_SCHED_TIMEOUT_INTERACTIVE_MS: '400',
    });
  });
  after(async () => {
    await gw?.close();
    await pod?.stop();
  });

  const ask = (key: string, extra: Record<string, unknown> = {}, signal?: AbortSignal) =>
    chat(gw, key, { model, messages: [{ role: 'user', content: 'Describe the yard.' }], ...extra }, { signal });

  it('sheds with retry-after: 429 for an organization over its share of the queue, 503 when the queue is full or the wait too long', async () => {
    const other = await createTenant(gw.gateway);
    const third = await createTenant(gw.gateway);
    const running = ask(gw.apiKey, LONG);
    await eventually(async () => metric(await podMetrics(pod), 'vllm:num_requests_running') === 1, 3_000, 'the first request to run');

    const queuedA = [ask(gw.apiKey, { max_tokens: 2 }), ask(gw.apiKey, { max_tokens: 2 })];
    await sleep(50);
    const overShare = await ask(gw.apiKey, { max_tokens: 2 });
    assert.equal(overShare.status, 429);
    assert.equal(overShare.body.error.code, 'rate_limit_exceeded');
    assert.ok(Number(overShare.headers.get('retry-after')) >= 1);

    const queuedB = ask(other.apiKey, { max_tokens: 2 });
    await sleep(50);
    const full = await ask(third.apiKey, { max_tokens: 2 });
    assert.equal(full.status, 503);
    assert.equal(full.body.error.code, 'model_overloaded');
    assert.equal(full.body.error.type, 'service_unavailable');
    assert.ok(Number(full.headers.get('retry-after')) >= 1);

    // The three queued requests wait 400 ms (the interactive queue timeout), then are shed.
    for (const reply of await Promise.all([...queuedA, queuedB])) {
      assert.equal(reply.status, 503);
      assert.equal(reply.body.error.code, 'model_overloaded');
      assert.match(reply.body.error.message, /waited/);
      assert.ok(Number(reply.headers.get('retry-after')) >= 1);
    }
    assert.equal((await running).status, 200);
    // The runtime never queued anything: the excess waited in the gateway.
    const metrics = await gatewayMetrics(gw);
    assert.equal(metric(metrics, 'switchyard_scheduler_shed_total', { pool, reason: 'org_queue_full' }), 1);
    assert.equal(metric(metrics, 'switchyard_scheduler_shed_total', { pool, reason: 'queue_full' }), 1);
    assert.equal(metric(metrics, 'switchyard_scheduler_shed_total', { pool, reason: 'deadline' }), 3);
  });

  it('drops a queued request whose client disconnects; it never reaches the pod', async () => {
    const before = metric(await podMetrics(pod), 'vllm:prompt_tokens_total');
    const running = ask(gw.apiKey, { max_tokens: 20, ignore_eos: true });
    await eventually(async () => metric(await podMetrics(pod), 'vllm:num_requests_running') === 1, 3_000, 'the first request to run');
    const afterFirst = metric(await podMetrics(pod), 'vllm:prompt_tokens_total');
    const controller = new AbortController();
    const queued = ask(gw.apiKey, { max_tokens: 2, messages: [{ role: 'user', content: 'a different, longer prompt that would add tokens' }] }, controller.signal).catch((err) => err);
    await eventually(async () => metric(await gatewayMetrics(gw), 'switchyard_scheduler_queued', { pool, class: 'interactive' }) === 1, 2_000, 'the request to queue');
    controller.abort();
    await queued;
    await eventually(async () => metric(await gatewayMetrics(gw), 'switchyard_scheduler_queued', { pool, class: 'interactive' }) === 0, 2_000, 'the queue to empty');
    assert.equal((await running).status, 200);
    await sleep(100);
    assert.equal(metric(await podMetrics(pod), 'vllm:prompt_tokens_total'), afterFirst, 'no prompt tokens beyond the first request reached the pod');
    assert.ok(afterFirst > before);
  });

  it('serves waiting interactive requests before flex ones', async () => {
    const running = ask(gw.apiKey, { max_tokens: 15, ignore_eos: true });
    await eventually(async () => metric(await podMetrics(pod), 'vllm:num_requests_running') === 1, 3_000, 'the first request to run');
    const order: string[] = [];
    const flex = ask(gw.apiKey, { max_tokens: 2, service_tier: 'flex' }).then((r) => (order.push('flex'), r));
    await sleep(30);
    const other = await createTenant(gw.gateway);
    const interactive = ask(other.apiKey, { max_tokens: 2 }).then((r) => (order.push('interactive'), r));
    const replies = await Promise.all([running, flex, interactive]);
    for (const r of replies) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(order, ['interactive', 'flex']);
  });
});
