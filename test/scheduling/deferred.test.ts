/**
 * The scheduler's BullMQ queues: jobs are durable in Redis (one enqueued while no gateway runs is served
 * once one starts) and are fed into admission in the lowest class, after every waiting interactive
 * request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue, type Job } from 'bullmq';
import { DeferredWorkService, schedulerQueueName, type DeferredRequest, type DeferredResult } from '../../src/batch/deferred-work.service.js';
import { uniqueSuffix, type TestGateway } from '../support/harness.js';
import { assertMatchesSchema } from '../support/openai-schema.js';
import { SLOW, boot, catalogue, chat, eventually, metric, podMetrics, startPods, type SimPod } from './support.js';

async function finished(queue: Queue, id: string, timeoutMs = 10_000): Promise<Job<DeferredRequest, DeferredResult>> {
  await eventually(
    async () => {
      const state = await queue.getJobState(id);
      return state === 'completed' || state === 'failed';
    },
    timeoutMs,
    `job ${id} to finish`,
  );
  // Loaded after it finished, so the return value is in it.
  return (await queue.getJob(id)) as Job<DeferredRequest, DeferredResult>;
}

describe('deferred work (BullMQ)', () => {
  let pod: SimPod;
  let gw: TestGateway;
  let queue: Queue;
  const s = uniqueSuffix();
  const pool = `deferred-${s}`;
  const model = `m-${s}`;

  before(async () => {
    [pod] = await startPods(1, SLOW);
    // Enqueued before any gateway serves this pool: the job waits in Redis.
    queue = new Queue(schedulerQueueName(pool), { connection: { url: process.env.SWITCHYARD_REDIS_URL, maxRetriesPerRequest: null }, prefix: 'switchyard' });
    await queue.add('request', { endpoint: 'chat.completions', body: { model, messages: [{ role: 'user', content: 'early' }], max_tokens: 3 }, orgId: 'org-early' } satisfies DeferredRequest, {
      jobId: `early-${s}`,
    });
    gw = await boot(catalogue([{ name: pool, endpoints: [pod.baseUrl] }], [{ name: model, pool }]), { SWITCHYARD_SCHED_MAX_IN_FLIGHT_PER_POD: '1' });
  });
  after(async () => {
    await gw?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    await pod?.stop();
  });

  it('serves a job that was enqueued before the gateway started', async () => {
    const job = await finished(queue, `early-${s}`);
    assert.equal(job.returnvalue.status, 200, JSON.stringify(job.returnvalue));
    assertMatchesSchema('CreateChatCompletionResponse', job.returnvalue.body);
    assert.equal(job.returnvalue.body.model, model);
  });

  it('starts a job only when no interactive request is waiting for the pool', async () => {
    const deferred = gw.gateway.app.get(DeferredWorkService);
    const order: string[] = [];
    const running = chat(gw, gw.apiKey, { model, messages: [{ role: 'user', content: 'running' }], max_tokens: 40, ignore_eos: true });
    await eventually(async () => metric(await podMetrics(pod), 'vllm:num_requests_running') === 1, 3_000, 'the pod to fill');
    const waiting = chat(gw, gw.apiKey, { model, messages: [{ role: 'user', content: 'waiting' }], max_tokens: 20, ignore_eos: true }).then((r) => (order.push('interactive'), r));
    const id = await deferred.enqueue({ endpoint: 'chat.completions', body: { model, messages: [{ role: 'user', content: 'batch' }], max_tokens: 2 }, orgId: gw.orgId });
    const job = finished(queue, id).then((j) => (order.push('batch'), j));
    assert.equal((await running).status, 200);
    assert.equal((await waiting).status, 200);
    assert.equal((await job).returnvalue.status, 200);
    assert.deepEqual(order, ['interactive', 'batch']);
  });

  it('records a request error as the job result rather than retrying it', async () => {
    const deferred = gw.gateway.app.get(DeferredWorkService);
    const id = await deferred.enqueue({ endpoint: 'chat.completions', body: { model, messages: [{ role: 'user', content: 'x' }], max_tokens: 100_000 }, orgId: gw.orgId });
    const job = await finished(queue, id);
    assert.equal(job.returnvalue?.status, 400, job.failedReason);
    assert.equal((job.returnvalue.body as { error: { code: string } }).error.code, 'context_length_exceeded');
  });
});
