/**
 * End to end: what happens when pods die, clients leave and the gateway shuts down.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { spawnSimPod } from '../../runtimes/sim/spawn.js';
import { parseCatalogue } from '../../src/config/index.js';
import { eventually, sample } from '../support/eventually.js';
import { SIM_PROFILE, bootGateway, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { assertMatchesSchema } from '../support/openai-schema.js';

type SimPod = Awaited<ReturnType<typeof spawnSimPod>>;

async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function staticCatalogue(suffix: string, endpoints: string[]) {
  return parseCatalogue(
    {
      pools: [{ name: `static-${suffix}`, runtime: 'sim', provider: 'static', servedModel: 'meta-llama/Llama-3.2-1B-Instruct', endpoints }],
      models: [{ name: `m-${suffix}`, pool: `static-${suffix}`, contextWindow: 4096, tokenizer: 'llama3' }],
    },
    'test',
  );
}

async function podMetric(pod: SimPod, name: string): Promise<number> {
  const text = await (await fetch(`${pod.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

describe('a dead pod', () => {
  let pod: SimPod;
  let gw: TestGateway;
  before(async () => {
    pod = await spawnSimPod({ model: 'meta-llama/Llama-3.2-1B-Instruct', profile: SIM_PROFILE });
  });
  after(async () => {
    await gw?.close();
    await pod?.stop();
  });

  it('is skipped: a refused connection is retried on another pod before the first byte', async () => {
    const suffix = uniqueSuffix();
    gw = await bootGateway(staticCatalogue(suffix, [`http://127.0.0.1:${await deadPort()}`, pod.baseUrl]));
    for (let i = 0; i < 6; i++) {
      const res = await gw.client.chat.completions.create({ model: `m-${suffix}`, messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 3 });
      assertMatchesSchema('CreateChatCompletionResponse', res);
      const stream = await gw.client.chat.completions.create({ model: `m-${suffix}`, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, stream: true });
      for await (const chunk of stream) assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
    }
  });

  it('with no live pod left, yields a precise 5xx error, not a hang or a crash', async () => {
    const suffix = uniqueSuffix();
    const lone = await bootGateway(staticCatalogue(suffix, [`http://127.0.0.1:${await deadPort()}`]));
    try {
      // The first request meets the refused connection itself (502), unless the active health probe
      // that runs at boot has already ejected the pod (503).
      await assert.rejects(
        lone.client.chat.completions.create({ model: `m-${suffix}`, messages: [{ role: 'user', content: 'hi' }] }),
        (err: unknown) =>
          err instanceof OpenAI.APIError && ((err.status === 502 && err.code === 'upstream_connect_failed') || (err.status === 503 && err.code === 'no_pod_available')),
      );
      // The pod is now ejected: the next request is refused fast with 503 and retry-after (the time
      // until the breaker lets a trial request through, at least 1 s).
      const res = await fetch(`${lone.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${lone.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: `m-${suffix}`, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get('retry-after')) >= 1, `retry-after: ${res.headers.get('retry-after')}`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'no_pod_available');
    } finally {
      await lone.close();
    }
  });
});

describe('a pod that refuses work', () => {
  let pod: SimPod;
  let refusing: SimPod;
  let gw: TestGateway;
  let names: { ok: string; refusing: string };
  before(async () => {
    [pod, refusing] = await Promise.all([
      spawnSimPod({ model: 'meta-llama/Llama-3.2-1B-Instruct', profile: SIM_PROFILE }),
      spawnSimPod({ model: 'meta-llama/Llama-3.2-1B-Instruct', profile: SIM_PROFILE, args: ['--fault-error-rate', '1', '--fault-error-status', '503'] }),
    ]);
    const s = uniqueSuffix();
    names = { ok: `ok-${s}`, refusing: `refusing-${s}` };
    gw = await bootGateway(
      parseCatalogue(
        {
          pools: [
            { name: `ok-${s}`, runtime: 'sim', provider: 'static', servedModel: 'meta-llama/Llama-3.2-1B-Instruct', endpoints: [pod.baseUrl] },
            { name: `refusing-${s}`, runtime: 'sim', provider: 'static', servedModel: 'meta-llama/Llama-3.2-1B-Instruct', endpoints: [refusing.baseUrl] },
          ],
          models: [
            { name: names.ok, pool: `ok-${s}`, contextWindow: 4096, tokenizer: 'llama3' },
            { name: names.refusing, pool: `refusing-${s}`, contextWindow: 4096, tokenizer: 'llama3', fallbacks: [names.ok] },
          ],
        },
        'test',
      ),
      { SWITCHYARD_SIM_FAULT_INJECTION: 'true' }, // the runtime's 429/503 come from x-sim-fault
    );
  });
  after(async () => {
    await gw?.close();
    await Promise.all([pod?.stop(), refusing?.stop()]);
  });

  const chat = (model: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }),
    });

  it('answers 503 upstream_unavailable with retry-after, not no_pod_available, when the runtime says it is busy or unavailable', async () => {
    // The pod stays in rotation throughout (a 429 never counts against it; one 503 does not eject it):
    // the runtime's refusal is not "no pod in rotation".
    for (const status of [429, 503]) {
      const res = await chat(names.ok, { 'x-sim-fault': `error=${status}` });
      const body = (await res.json()) as { error: { type: string; code: string } };
      assertMatchesSchema('ErrorResponse', body);
      assert.equal(res.status, 503, `runtime ${status}: ${JSON.stringify(body)}`);
      assert.deepEqual([body.error.type, body.error.code], ['service_unavailable', 'upstream_unavailable'], `runtime ${status}`);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
    }
  });

  it(
    'hands the request to the fallback when every pod of the pool answers 503',
    async () => {
      const res = await chat(names.refusing);
      const body = (await res.json()) as { model?: string };
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.model, names.ok);
      assert.equal(res.headers.get('x-switchyard-fallback-reason'), 'upstream_failed');
    },
  );
});

describe('a client that disconnects', () => {
  let pod: SimPod;
  let gw: TestGateway;
  before(async () => {
    // Slow decoding (70B profile) so the request is still running when the client leaves.
    pod = await spawnSimPod({ model: 'meta-llama/Llama-3.2-1B-Instruct', profile: 'llama-3.1-70b-tp4-h100' });
    const suffix = uniqueSuffix();
    gw = await bootGateway(staticCatalogue(suffix, [pod.baseUrl]));
    gw.names.chat = `m-${suffix}`;
  });
  after(async () => {
    await gw?.close();
    await pod?.stop();
  });

  it('aborts the upstream request, freeing the pod', async () => {
    const controller = new AbortController();
    // ignore_eos (a vLLM extension, passed through) makes the pod generate all 2000 tokens (~35 s).
    const body = { model: gw.names.chat, messages: [{ role: 'user', content: 'Write a long essay.' }], max_tokens: 2000, stream: true, ignore_eos: true };
    const stream = await gw.client.chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsStreaming, { signal: controller.signal });
    let seen = 0;
    let runningBefore = 0;
    try {
      for await (const _ of stream) {
        if (++seen === 2) runningBefore = await podMetric(pod, 'vllm:num_requests_running');
        if (seen === 3) {
          controller.abort();
          break; // chunks already read from the socket would otherwise still be yielded
        }
      }
    } catch (err) {
      assert.ok(err instanceof OpenAI.APIUserAbortError, String(err));
    }
    assert.equal(seen, 3);
    assert.equal(runningBefore, 1, 'the pod was generating for this client before it left');
    // The stream had ~35 s to go: the pod stopping well before that is the upstream abort's doing.
    await eventually(async () => (await podMetric(pod, 'vllm:num_requests_running')) === 0, 'the pod to stop generating for the departed client', 10_000);
    // Recorded as the client's doing, not as an upstream failure.
    const labels = { model: gw.names.chat, code: 'client_closed_request' };
    await eventually(async () => sample(await (await fetch(`${gw.url}/metrics`)).text(), 'switchyard_errors_total', labels) === 1, 'the request to be finalised');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.equal(sample(metrics, 'switchyard_requests_total', { model: gw.names.chat, status: '499' }), 1);
    assert.equal(sample(metrics, 'switchyard_errors_total', { model: gw.names.chat, code: 'upstream_error' }), 0);
  });
});

describe('operations endpoints and shutdown', () => {
  it('serves /health, /ready, /metrics, and drains in-flight streams on shutdown', async () => {
    const pod = await spawnSimPod({ model: 'meta-llama/Llama-3.2-1B-Instruct', profile: 'llama-3.1-70b-tp4-h100' });
    const suffix = uniqueSuffix();
    const gw = await bootGateway(staticCatalogue(suffix, [pod.baseUrl]));
    try {
      assert.equal((await fetch(`${gw.url}/health`)).status, 200);
      const ready = await fetch(`${gw.url}/ready?detail=1`);
      const readyBody = (await ready.json()) as { checks: Record<string, { status: string }> };
      assert.equal(ready.status, 200, JSON.stringify(readyBody));
      assert.equal(readyBody.checks.postgres.status, 'ok');
      assert.equal(readyBody.checks.redis.status, 'ok');
      assert.equal(readyBody.checks.pods.status, 'ok');
      assert.ok(ready.headers.get('x-request-id'));
      const given = await fetch(`${gw.url}/health`, { headers: { 'x-request-id': 'trace-abc-123' } });
      assert.equal(given.headers.get('x-request-id'), 'trace-abc-123');

      await gw.client.chat.completions.create({ model: `m-${suffix}`, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`switchyard_requests_total\\{model="m-${suffix}",endpoint="chat.completions",status="200"\\} 1`));
      assert.match(metrics, /switchyard_tokens_total\{model="m-[a-f0-9]+",kind="completion"\} 2/);

      // A stream of ~60 tokens at ~17 ms per step is in flight when shutdown starts; it must finish.
      const body = { model: `m-${suffix}`, messages: [{ role: 'user', content: 'hi' }], max_tokens: 60, stream: true, ignore_eos: true };
      const stream = await gw.client.chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
      const iterator = stream[Symbol.asyncIterator]();
      const first = await iterator.next();
      assert.equal(first.done, false);
      const shutdown = gw.close();
      let tokens = 1;
      let finish: string | null | undefined;
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
        tokens++;
        finish = r.value.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(finish, 'length');
      assert.ok(tokens >= 60);
      await shutdown;
      await assert.rejects(fetch(`${gw.url}/health`), 'the listener is closed after shutdown');
    } finally {
      await gw.close();
      await pod.stop();
    }
  });
});
