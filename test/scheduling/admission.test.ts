/**
 * Admission against a saturated pool: requests wait in the gateway, not in the runtime; the queue is
 * bounded (per pool: 503, per organization: 429), waiting is bounded by the class's queue timeout
 * (503), every refusal carries retry-after, and a client that gives up leaves the queue without ever
 * reaching a pod. Interactive requests go before flex ones.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTenant, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { SLOW, boot, catalogue, chat, eventually, gatewayMetrics, metric, podMetrics, startPods, type SimPod } from './support.js';

/**
 * ~150 decode steps of ~17 ms: a request that holds the pod's only slot for ~2.5 s, well past the
 * interactive queue timeout (1 s) of the requests queued behind it.
 */
const LONG = { max_tokens: 150, ignore_eos: true };

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
      SWITCHYARD_SCHED_TIMEOUT_INTERACTIVE_MS: '1000',
    });
  });
  after(async () => {
    await gw?.close();
    await pod?.stop();
  });

  const ask = (key: string, extra: Record<string, unknown> = {}, signal?: AbortSignal) =>
    chat(gw, key, { model, messages: [{ role: 'user', content: 'Describe the yard.' }], ...extra }, { signal });
  /** Requests of `cls` waiting in the gateway for this pool. */
  const queued = async (cls: string, metrics?: string) => metric(metrics ?? (await gatewayMetrics(gw)), 'switchyard_scheduler_queued', { pool, class: cls });
  const podRunning = async () => metric(await podMetrics(pod), 'vllm:num_requests_running');
  const podPromptTokens = async () => metric(await podMetrics(pod), 'vllm:prompt_tokens_total');

  it('sheds with retry-after: 429 for an organization over its share of the queue, 503 when the queue is full or the wait too long', async () => {
    const other = await createTenant(gw.gateway);
    const third = await createTenant(gw.gateway);
    const running = ask(gw.apiKey, LONG);
    await eventually(async () => (await podRunning()) === 1, 3_000, 'the first request to run');

    const queuedA = [ask(gw.apiKey, { max_tokens: 2 }), ask(gw.apiKey, { max_tokens: 2 })];
    await eventually(async () => (await queued('interactive')) === 2, 2_000, "the organization's two requests to queue");
    const overShare = await ask(gw.apiKey, { max_tokens: 2 });
    assert.equal(overShare.status, 429);
    assert.equal(overShare.body.error.code, 'rate_limit_exceeded');
    assert.ok(Number(overShare.headers.get('retry-after')) >= 1);

    const queuedB = ask(other.apiKey, { max_tokens: 2 });
    await eventually(async () => (await queued('interactive')) === 3, 2_000, "the other organization's request to queue");
    const full = await ask(third.apiKey, { max_tokens: 2 });
    assert.equal(full.status, 503);
    assert.equal(full.body.error.code, 'model_overloaded');
    assert.equal(full.body.error.type, 'service_unavailable');
    assert.ok(Number(full.headers.get('retry-after')) >= 1);

    // The three queued requests wait 1 s (the interactive queue timeout), then are shed.
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
    const before = await podPromptTokens();
    const running = ask(gw.apiKey, { max_tokens: 20, ignore_eos: true });
    await eventually(async () => (await podRunning()) === 1, 3_000, 'the first request to run');
    const controller = new AbortController();
    const gone = ask(gw.apiKey, { max_tokens: 2, messages: [{ role: 'user', content: 'a different, longer prompt that would add tokens' }] }, controller.signal).catch((err) => err);
    await eventually(async () => (await queued('interactive')) === 1, 2_000, 'the request to queue');
    controller.abort();
    await gone;
    await eventually(async () => (await queued('interactive')) === 0, 2_000, 'the queue to empty');
    assert.equal((await running).status, 200);
    const afterFirst = await podPromptTokens();
    assert.ok(afterFirst > before);
    // Had the departed request been kept, it would have been the head of the queue when the first one
    // finished, and reached the pod before a probe sent now (the pod takes one request at a time). The
    // probe repeats the first request's prompt: the pod must count exactly its tokens again, no more.
    const probe = await ask(gw.apiKey, { max_tokens: 2 });
    assert.equal(probe.status, 200);
    assert.equal((await podPromptTokens()) - afterFirst, afterFirst - before, "only the probe's prompt reached the pod after the first request");
  });

  it('serves waiting interactive requests before flex ones', async () => {
    const other = await createTenant(gw.gateway);
    // ~30 steps of ~17 ms: long enough for both to queue behind it, short of the 1 s interactive timeout.
    const running = ask(gw.apiKey, { max_tokens: 30, ignore_eos: true });
    await eventually(async () => (await podRunning()) === 1, 3_000, 'the first request to run');
    const order: string[] = [];
    const flex = ask(gw.apiKey, { max_tokens: 2, service_tier: 'flex' }).then((r) => (order.push('flex'), r));
    await eventually(async () => (await queued('flex')) === 1, 2_000, 'the flex request to queue');
    const interactive = ask(other.apiKey, { max_tokens: 2 }).then((r) => (order.push('interactive'), r));
    await eventually(
      async () => {
        const metrics = await gatewayMetrics(gw);
        return (await queued('interactive', metrics)) === 1 && (await queued('flex', metrics)) === 1;
      },
      2_000,
      'the interactive request to queue while the flex one still waits',
    );
    const replies = await Promise.all([running, flex, interactive]);
    for (const r of replies) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(order, ['interactive', 'flex']);
  });
});
