/**
 * Deferred work: durable BullMQ queues, one per pool (`switchyard:sched-<pool>`), and the workers
 * that feed their jobs into the same admission scheduler as live traffic, in the lowest
 * class (`batch`): a job starts only when no interactive or flex request is waiting for the pool, so
 * deferred work soaks up idle GPU capacity without adding latency to live traffic.
 *
 * A job is one non-streamed /v1 request (already validated and authorised by whoever enqueued it — the
 * Batch API, in a later issue). BullMQ's own job priority orders jobs within a pool's queue (1 = first).
 * Jobs survive gateway restarts: a job taken by a replica that dies is moved back to waiting by BullMQ's
 * stalled-job check; on a graceful shutdown, jobs still waiting for admission are handed back at once.
 * A job's result (status and OpenAI body, errors included) is its return value; runtime failures and
 * overload are retried by BullMQ with backoff.
 *
 * Per worker `deferredWorkersPerPool` jobs are held at a time (waiting for admission or running), so a
 * large backlog stays in Redis, not in gateway memory.
 *
 * Why live `service_tier: "flex"` requests do not go through here: their client is holding the HTTP
 * connection, so durability buys nothing (the response dies with the connection), streaming would need
 * a side channel, and the Redis round trips would break the hot-path budget. Flex is the in-memory
 * scheduler's `flex` class instead: below interactive, above batch, with a long queue timeout.
 */
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Queue, WaitingError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { CatalogService } from '../catalog/index.js';
import type { CatalogPool } from '../catalog/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import type { JsonResult } from '../dispatch/index.js';
import { RouteRunner } from '../dispatch/index.js';
import { ApiError, isRedisOutage } from '../errors/index.js';
import { DependencyMonitor, LOGGER } from '../observability/index.js';
import type { Usage } from '../runtimes/index.js';
import { PromptService } from '../prompt/index.js';
import type { InferenceEndpoint } from '../runtimes/index.js';
import { ModelRouter } from '../routing/index.js';
import type { RequestBody } from '../validation/index.js';
import { AdmissionAborted } from '../scheduler/index.js';

const PREFIX = 'switchyard';

/** A deferred request. `body.model` names a catalogue model (or alias). */
export interface DeferredRequest {
  endpoint: InferenceEndpoint;
  body: Record<string, unknown>;
  orgId: string;
  /** The organization's tier (fair-share weight among batch jobs); default standard. */
  tier?: string;
  /** Correlation id, logged and sent upstream as x-request-id. */
  requestId?: string;
}

export interface DeferredResult {
  status: number;
  body: Record<string, unknown>;
}

export function schedulerQueueName(pool: string): string {
  return `sched-${pool}`;
}

/** How long shutdown waits for a BullMQ worker or queue to close before forcing it. */
const SHUTDOWN_CLOSE_MS = 5_000;

@Injectable()
export class DeferredWorkService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  /** Aborts admission waits at shutdown, so waiting jobs go back to Redis at once. */
  private readonly stopping = new AbortController();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly catalog: CatalogService,
    private readonly prompt: PromptService,
    private readonly router: ModelRouter,
    private readonly runner: RouteRunner,
    private readonly dependencies: DependencyMonitor,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'deferred-work' });
  }

  /** Starts one worker per pool (none when deferredWorkersPerPool is 0). */
  /** The workers start once every module is up (closed first at shutdown). */
  onApplicationBootstrap(): Promise<void> {
    return this.start(this.catalog.listPools());
  }

  async start(pools: readonly CatalogPool[]): Promise<void> {
    const concurrency = this.config.scheduling.deferredWorkersPerPool;
    if (concurrency === 0) return;
    for (const pool of pools) {
      const worker = new Worker<DeferredRequest, DeferredResult>(schedulerQueueName(pool.name), (job, token) => this.process(job, token), {
        connection: this.connection(),
        prefix: PREFIX,
        concurrency,
        // A job can wait a long time for admission; its lock is renewed meanwhile. A replica that dies
        // leaves it stalled, and the next stalled check puts it back (up to 5 times).
        maxStalledCount: 5,
      });
      worker.on('error', (err) => {
        // Redis away: one line for the outage (and one for its recovery, from the Redis service), the
        // rest counted; BullMQ reports every reconnection attempt here.
        if (isRedisOutage(err)) this.dependencies.failed('redis', err, 'deferred_work');
        else this.logger.error({ err, pool: pool.name, queue: worker.name }, 'deferred-work worker error');
      });
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  /** Enqueues a request on its model's pool. Resolves with the job id. */
  async enqueue(request: DeferredRequest, opts: { priority?: number; jobId?: string; attempts?: number } = {}): Promise<string> {
    const model = this.catalog.resolve(String(request.body.model));
    const job = await this.queue(model.pool).add('request', request, {
      priority: opts.priority,
      jobId: opts.jobId,
      attempts: opts.attempts ?? 5,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    return job.id!;
  }

  /** The pool's queue (for the Batch API and tests). */
  queue(pool: string): Queue {
    let queue = this.queues.get(pool);
    if (!queue) {
      queue = new Queue(schedulerQueueName(pool), { connection: this.connection(), prefix: PREFIX });
      this.queues.set(pool, queue);
    }
    return queue;
  }

  private connection() {
    // BullMQ needs blocking commands to wait indefinitely (maxRetriesPerRequest: null).
    return { url: this.config.redisUrl, maxRetriesPerRequest: null };
  }

  private async process(job: Job<DeferredRequest, DeferredResult>, token: string | undefined): Promise<DeferredResult> {
    const { endpoint, orgId, tier } = job.data;
    const body = { ...job.data.body, stream: false } as unknown as RequestBody;
    const requestId = job.data.requestId ?? `job_${job.id}`;
    let result: JsonResult | undefined;
    // Running requests are not cut at shutdown (workers close gracefully); only admission waits are.
    const running = new AbortController();
    try {
      const model = this.catalog.resolve(body.model);
      const plan = await this.prompt.plan(endpoint, body, model, 0);
      const route = await this.router.route({
        requested: model,
        requestedName: body.model,
        endpoint,
        body,
        plan,
        principal: { orgId, tier, allowedModels: null },
        requestId,
        stream: false,
        bodyBytes: 0,
        cls: 'batch',
      });
      // Scheduled and sent like live traffic, at batch priority; shutdown ends only the wait for a pod.
      const served = await this.runner.run(route, { endpoint, stream: false, requestId, signal: running.signal }, { admitSignal: this.stopping.signal });
      if (served.result.kind !== 'json') {
        served.result.release();
        throw new Error('a deferred request was answered with a stream');
      }
      result = served.result;
      result.json.model = served.route.responseModel;
      return { status: 200, body: result.json };
    } catch (err) {
      if (err instanceof AdmissionAborted || this.stopping.signal.aborted) {
        // Shutting down: back to waiting for another replica (or this one after a restart).
        await job.moveToWait(token);
        throw new WaitingError();
      }
      // The request's own fault (4xx) is its result; overload and upstream failures are retried.
      if (err instanceof ApiError && err.status < 500 && err.status !== 429) return { status: err.status, body: err.toBody() as unknown as Record<string, unknown> };
      throw err;
    } finally {
      result?.release(result.json.usage as Usage | undefined);
    }
  }

  /**
   * Hands waiting jobs back, lets running ones finish (pods stop later, in onApplicationShutdown).
   * Bounded: after a Redis restart a BullMQ worker's close() was seen never to resolve, which held
   * the whole shutdown; past the bound the worker is force-closed (its jobs go back to the queue when
   * their locks lapse) and shutdown goes on.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.workers.map((w) => this.closeWithin(w.name, () => w.close(), () => w.close(true))));
    await Promise.all([...this.queues.values()].map((q) => this.closeWithin(q.name, () => q.close(), () => q.disconnect())));
  }

  private async closeWithin(name: string, close: () => Promise<void>, force: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), SHUTDOWN_CLOSE_MS).unref()));
    const outcome = await Promise.race([close().catch(() => undefined), late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.logger.warn({ queue: name, afterMs: SHUTDOWN_CLOSE_MS }, 'deferred-work close did not finish; forcing it');
      await Promise.race([force().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_CLOSE_MS).unref())]);
    }
  }
}
