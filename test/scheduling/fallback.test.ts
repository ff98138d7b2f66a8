/**
 * Fallback chains: a model whose pool is down is served by the next model of its chain (the response's
 * `model` names what served it, headers say why); by policy, a free-tier request goes down the chain
 * when the pool is saturated while other tiers wait for it; with nothing left, 503 with retry-after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTenant, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { assertMatchesSchema } from '../support/openai-schema.js';
import { SLOW, boot, catalogue, chat, chatStream, deadPort, eventually, gatewayMetrics, metric, podMetrics, startPods, type SimPod } from './support.js';

const SMALL_SERVED = 'test/small-fallback';

describe('a model whose pool is down', () => {
  let small: SimPod;
  let gw: TestGateway;
  let names: { big: string; small: string; lone: string; bigPool: string };

  before(async () => {
    [small] = await startPods(1, undefined, SMALL_SERVED);
    const s = uniqueSuffix();
    names = { big: `big-${s}`, small: `small-${s}`, lone: `lone-${s}`, bigPool: `bigpool-${s}` };
    const dead = `http://127.0.0.1:${await deadPort()}`;
    gw = await boot(
      catalogue(
        [
          { name: names.bigPool, endpoints: [dead] },
          { name: `smallpool-${s}`, endpoints: [small.baseUrl], served: SMALL_SERVED },
          { name: `lonepool-${s}`, endpoints: [`http://127.0.0.1:${await deadPort()}`] },
        ],
        [
          { name: names.big, pool: names.bigPool, aliases: [`fast-${s}`], fallbacks: [names.small] },
          { name: names.small, pool: `smallpool-${s}` },
          { name: names.lone, pool: `lonepool-${s}` },
        ],
      ),
      // Ejected pods stay out for a minute: no half-open trial during these tests.
      { SWITCHYARD_BREAKER_EJECT_BASE_MS: '60000', SWITCHYARD_BREAKER_EJECT_MAX_MS: '60000' },
    );
  });
  after(async () => {
    await gw?.close();
    await small?.stop();
  });

  it('is served by its fallback, which the response names', async () => {
    const reply = await chat(gw, gw.apiKey, { model: `fast-${names.big.slice(4)}`, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assertMatchesSchema('CreateChatCompletionResponse', reply.body);
    assert.equal(reply.body.model, names.small);
    assert.equal(reply.headers.get('x-switchyard-fallback-from'), names.big);
    // The boot-time health probe may not have ejected the dead pod yet: then the refused connection does.
    assert.match(reply.headers.get('x-switchyard-fallback-reason')!, /^(pool_unavailable|upstream_failed)$/);

    await eventually(async () => metric(await gatewayMetrics(gw), 'switchyard_pod_breaker_state', { pool: names.bigPool }) === 2, 3_000, 'the dead pod to be ejected');
    const stream = await chatStream(gw, gw.apiKey, { model: names.big, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
    assert.equal(stream.status, 200);
    assert.ok(stream.done);
    assert.equal(stream.headers.get('x-switchyard-fallback-from'), names.big);
    assert.equal(stream.headers.get('x-switchyard-fallback-reason'), 'pool_unavailable');
    for (const event of stream.events.filter((e) => e !== '[DONE]')) {
      assertMatchesSchema('CreateChatCompletionStreamResponse', event);
      assert.equal(event.model, names.small);
    }
    const metrics = await gatewayMetrics(gw);
    assert.ok(metric(metrics, 'switchyard_routing_fallbacks_total', { from: names.big, to: names.small }) >= 2);
  });

  it('without a fallback, is refused with 503 no_pod_available and retry-after', async () => {
    await eventually(async () => metric(await gatewayMetrics(gw), 'switchyard_pod_breaker_state', { pool: `lonepool-${names.lone.slice(5)}` }) === 2, 3_000, 'the dead pod to be ejected');
    const reply = await chat(gw, gw.apiKey, { model: names.lone, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(reply.status, 503);
    assert.equal(reply.body.error.code, 'no_pod_available');
    assert.ok(Number(reply.headers.get('retry-after')) >= 1);
  });

  it('a fallback the key may not use is skipped', async () => {
    const restricted = await createTenant(gw.gateway, { allowedModels: [names.big] });
    const reply = await chat(gw, restricted.apiKey, { model: names.big, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    assert.equal(reply.status, 503);
    assert.equal(reply.body.error.code, 'no_pod_available');
  });
});

describe('a saturated pool with a fallback', () => {
  let big: SimPod;
  let small: SimPod;
  let gw: TestGateway;
  let names: { big: string; small: string };

  before(async () => {
    [[big], [small]] = await Promise.all([startPods(1, SLOW), startPods(1, undefined, SMALL_SERVED)]);
    const s = uniqueSuffix();
    names = { big: `big-${s}`, small: `small-${s}` };
    gw = await boot(
      catalogue(
        [
          { name: `bigpool-${s}`, endpoints: [big.baseUrl] },
          { name: `smallpool-${s}`, endpoints: [small.baseUrl], served: SMALL_SERVED },
        ],
        [
          { name: names.big, pool: `bigpool-${s}`, fallbacks: [names.small] },
          { name: names.small, pool: `smallpool-${s}` },
        ],
      ),
      { SWITCHYARD_SCHED_MAX_IN_FLIGHT_PER_POD: '1' },
    );
  });
  after(async () => {
    await gw?.close();
    await Promise.all([big?.stop(), small?.stop()]);
  });

  it('sends free-tier requests down the chain while other tiers wait for the requested model', async () => {
    const free = await createTenant(gw.gateway, { tier: 'free' });
    const running = chat(gw, gw.apiKey, { model: names.big, messages: [{ role: 'user', content: 'long' }], max_tokens: 40, ignore_eos: true });
    await eventually(async () => metric(await podMetrics(big), 'vllm:num_requests_running') === 1, 3_000, 'the big pool to fill');

    const freeReply = await chat(gw, free.apiKey, { model: names.big, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    assert.equal(freeReply.status, 200);
    assert.equal(freeReply.body.model, names.small);
    assert.equal(freeReply.headers.get('x-switchyard-fallback-reason'), 'saturated');

    const standardReply = await chat(gw, gw.apiKey, { model: names.big, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    assert.equal(standardReply.status, 200);
    assert.equal(standardReply.body.model, names.big);
    assert.equal(standardReply.headers.get('x-switchyard-fallback-from'), null);
    assert.equal((await running).status, 200);
  });
});

describe('a pool whose pods fail every request', () => {
  it('hands the request to the fallback after the retries, before any byte reached the client', async () => {
    const [[broken], [small]] = await Promise.all([startPods(1, undefined, undefined, ['--fault-error-rate', '1']), startPods(1, undefined, SMALL_SERVED)]);
    const s = uniqueSuffix();
    const gw = await boot(
      catalogue(
        [
          { name: `brokenpool-${s}`, endpoints: [broken.baseUrl] },
          { name: `smallpool-${s}`, endpoints: [small.baseUrl], served: SMALL_SERVED },
        ],
        [
          { name: `big-${s}`, pool: `brokenpool-${s}`, fallbacks: [`small-${s}`] },
          { name: `small-${s}`, pool: `smallpool-${s}` },
        ],
      ),
    );
    try {
      const stream = await chatStream(gw, gw.apiKey, { model: `big-${s}`, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
      assert.equal(stream.status, 200);
      assert.ok(stream.done);
      assert.equal(stream.headers.get('x-switchyard-fallback-reason'), 'upstream_failed');
      assert.equal(stream.events[0].model, `small-${s}`);
    } finally {
      await gw.close();
      await Promise.all([broken.stop(), small.stop()]);
    }
  });
});
