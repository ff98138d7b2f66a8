/**
 * A pod dies under load: traffic moves to the others, and no client sees an error before its first
 * byte (requests that had not started streaming are retried on another pod; streams that had started
 * on the dead pod end with an SSE error event, never a silent truncation). The dead pod is ejected by
 * its breaker — by the refused connections, or by the active /health probe when no traffic reaches it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../support/harness.js';
import { SLOW, boot, catalogue, chatStream, eventually, gatewayMetrics, metric, podServed, startPods, type SimPod, type StreamReply } from './support.js';
import { uniqueSuffix } from '../support/harness.js';

describe('a pod killed under load', () => {
  let pods: SimPod[];
  let gw: TestGateway;
  let model: string;
  let pool: string;

  before(async () => {
    // 70B TP4 profile: ~17 ms per decode step, so a 30-token stream is in flight for ~0.5 s.
    pods = await startPods(3, SLOW);
    const suffix = uniqueSuffix();
    model = `m-${suffix}`;
    pool = `kill-${suffix}`;
    gw = await boot(catalogue([{ name: pool, endpoints: pods.map((p) => p.baseUrl) }], [{ name: model, pool }]), { SWITCHYARD_SIM_FAULT_INJECTION: 'true' });
  });
  after(async () => {
    await gw?.close();
    await Promise.all(pods.map((p) => p.stop()));
  });

  it('moves traffic to the other pods; no client sees an error before its first byte', async () => {
    const results: Array<StreamReply & { startedAt: number }> = [];
    // Ordered by conditions, not by the clock: the kill waits for requests before their first byte on
    // the pod that dies, and the clients run until a dozen requests begun after the kill completed.
    let killedAt: number | undefined;
    let lateDone = 0;
    const bound = Date.now() + 60_000; // a failure bound, not a timing assumption
    const running = () => (killedAt === undefined || lateDone < 12) && Date.now() < bound;
    const client = async (c: number) => {
      for (let i = 0; running(); i++) {
        const startedAt = Date.now();
        // Every other request is held 300 ms by the pod before it enters the engine.
        const reply = await chatStream(
          gw,
          gw.apiKey,
          { model, messages: [{ role: 'user', content: `client ${c} request ${i}` }], max_tokens: 30, ignore_eos: true },
          { simFault: i % 2 === 0 ? 'delay-ms=300' : undefined },
        );
        results.push({ ...reply, startedAt });
        if (killedAt !== undefined && startedAt > killedAt && reply.done) lateDone++;
      }
    };
    const prefilling = async (pod: string) => metric(await gatewayMetrics(gw), 'switchyard_pod_in_flight', { pod, phase: 'prefill' });
    const killer = (async () => {
      await eventually(() => results.length >= 6, 30_000, 'traffic on the pool');
      // Six requests held 0.9 s by their pod: spread over the three pods by load. (Held less than the
      // scheduler's 1 s prefill-stall limit, so the live pods keep taking traffic.)
      const held = Array.from({ length: 6 }, (_, i) => {
        const startedAt = Date.now();
        return chatStream(gw, gw.apiKey, { model, messages: [{ role: 'user', content: `held ${i}` }], max_tokens: 30, ignore_eos: true }, { simFault: 'delay-ms=900' }).then(
          (reply) => results.push({ ...reply, startedAt }),
        );
      });
      // Kill while requests wait for their first byte on the pod: those must be retried elsewhere.
      await eventually(async () => (await prefilling(`${pool}-0`)) >= 2, 30_000, 'requests before their first byte on the pod to kill');
      pods[0].child.kill('SIGKILL');
      killedAt = Date.now();
      await Promise.all(held);
    })();
    await Promise.all([...Array.from({ length: 6 }, (_, c) => client(c)), killer]);
    assert.ok(killedAt !== undefined);
    assert.ok(lateDone >= 12, `only ${lateDone} requests begun after the kill completed within the bound`);

    for (const r of results) assert.equal(r.status, 200, `an HTTP error reached a client: ${JSON.stringify(r.error)}`);
    const cut = results.filter((r) => !r.done);
    for (const r of cut) assert.equal(r.midStreamError?.code, 'upstream_stream_interrupted', 'a cut stream ends with an error event');
    // Only streams already running on the dead pod can be cut: at most the 6 clients' streams.
    assert.ok(cut.length <= 6, `${cut.length} streams cut`);
    // Requests that started after the kill all completed (on the two live pods).
    assert.ok(results.filter((r) => r.startedAt > killedAt!).every((r) => r.done));
    const metrics = await gatewayMetrics(gw);
    assert.ok(metric(metrics, 'switchyard_upstream_retries_total') >= 1, 'requests caught before their first byte were retried');
    assert.ok(metric(metrics, 'switchyard_pod_ejections_total', { pool }) >= 1, 'the dead pod is ejected');
    // Open (2), or half-open (1) once its 2-second ejection has elapsed: never back in rotation (0).
    const state = metric(metrics, 'switchyard_pod_breaker_state', { pod: `${pool}-0` });
    assert.ok(state === 1 || state === 2, `the dead pod stays out of rotation (breaker state ${state})`);
    assert.ok((await podServed(pods[1])) > 0 && (await podServed(pods[2])) > 0);
  });

  it('ejects a dead pod through the active health probe even when no request reaches it', async () => {
    const suffix = uniqueSuffix();
    const [a, b] = await startPods(2, SLOW);
    const quiet = await boot(catalogue([{ name: `quiet-${suffix}`, endpoints: [a.baseUrl, b.baseUrl] }], [{ name: `q-${suffix}`, pool: `quiet-${suffix}` }]));
    try {
      const state = async () => metric(await gatewayMetrics(quiet), 'switchyard_pod_breaker_state', { pod: `quiet-${suffix}-1` });
      assert.equal(await state(), 0);
      b.child.kill('SIGKILL');
      await eventually(async () => (await state()) === 2, 2_000, 'the probe to eject the dead pod');
      // /ready still passes: one pod is in rotation.
      assert.equal((await fetch(`${quiet.url}/ready`)).status, 200);
    } finally {
      await quiet.close();
      await a.stop();
      await b.stop();
    }
  });
});
