/**
 * The request path for /v1 inference, top to bottom. Each step is a small injected service; later
 * stages (safety) slot in where the comments say.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AuthService } from '../auth/index.js';
import { INFERENCE, assertModelAllowed } from '../auth/index.js';
import { CatalogService } from '../catalog/index.js';
import { CLOCK, type Clock } from '../clock/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import type { CatalogModel } from '../catalog/index.js';
import { RouteRunner } from '../dispatch/index.js';
import { IpThrottleService } from '../edge/index.js';
import { LifecycleService } from '../edge/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { LOGGER } from '../observability/index.js';
import type { InferenceEndpoint } from '../runtimes/index.js';
import { PromptService } from '../prompt/index.js';
import { AdmissionGate, QuotaService, type AdmissionPass } from '../quota/index.js';
import { ModelRouter } from '../routing/index.js';
import { assertSupported } from '../validation/index.js';
import { RequestValidator } from '../validation/index.js';
import { sendError } from '../edge/index.js';
import { RequestFinalizer, type RequestRecord } from './request-finalizer.js';
import { relaySse } from './sse-relay.js';
import type { Usage } from '../runtimes/index.js';

const ENDPOINT_KIND: Record<InferenceEndpoint, CatalogModel['kind']> = {
  'chat.completions': 'chat',
  completions: 'chat',
  embeddings: 'embedding',
};


@Injectable()
export class InferencePipeline {
  constructor(
    private readonly auth: AuthService,
    private readonly gate: AdmissionGate,
    private readonly validator: RequestValidator,
    private readonly catalog: CatalogService,
    private readonly prompt: PromptService,
    private readonly quota: QuotaService,
    private readonly router: ModelRouter,
    private readonly runner: RouteRunner,
    private readonly lifecycle: LifecycleService,
    private readonly ipThrottle: IpThrottleService,
    private readonly finalizer: RequestFinalizer,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(endpoint: InferenceEndpoint, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const record: RequestRecord = { requestId: req.id, endpoint, startedAt: performance.now(), stream: false, status: 200, clientGone: false };
    // Client disconnect aborts the upstream request, which frees the GPU.
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    let release: ((usage?: Usage) => void) | undefined;
    let admitted: AdmissionPass | undefined;
    this.lifecycle.begin();
    try {
      // 0. edge: draining replicas take no new work
      if (this.lifecycle.draining) throw new ApiError(ErrorCode.ShuttingDown, 'This server is shutting down; retry on another replica.', null, { 'retry-after': '1' });

      // 1. auth: Bearer key → principal (in-process cache, no query on a hit); needs the inference scope.
      //    A key not in the cache passes the per-IP throttle (Redis) before it may reach the database;
      //    failed authentications are counted per client address (429 past the limit).
      const principal = await this.auth.authenticate(req.headers.authorization, INFERENCE, { source: req.ip, beforeLookup: () => this.ipThrottle.check(req.ip) });
      record.principal = principal;

      // 1b. admit: cheap in-process limits per organization and key — request rate, body bytes in
      //     flight — before any parsing, validation or tokenizing (no I/O: step 6 is the global check)
      admitted = this.gate.admit(principal, (req.body as Buffer | undefined)?.length ?? 0);

      // 2. validate: parse JSON and check it against the OpenAI request schema
      const body = this.validator.parse(endpoint, req.body as Buffer | undefined);
      record.stream = body.stream === true;

      // 3. resolve: the model name or alias the client used → catalogue entry → pool. A model outside the
      //    key's allow-list does not exist for this key (same 404, checked before anything model-specific).
      const model = this.catalog.resolve(body.model);
      assertModelAllowed(principal, model, body.model);
      if (model.kind !== ENDPOINT_KIND[endpoint]) {
        throw new ApiError(ErrorCode.UnsupportedValue, `The model \`${body.model}\` does not support this endpoint.`, 'model');
      }
      assertSupported(endpoint, body, model);
      record.model = model;

      // 4. prompt: exact prompt tokens with the model's template and tokenizer; context-window check
      const plan = await this.prompt.plan(endpoint, body, model, (req.body as Buffer).length, abort.signal);
      record.promptTokens = plan.promptTokens;

      // (safety checks go here)

      // 5. route: the requested model, or the next model of its fallback chain when its pool is down or
      //    (for the tiers the policy names) saturated; a fallback is re-planned for its own template
      let route = await this.router.route({
        requested: model,
        requestedName: body.model,
        endpoint,
        body,
        plan,
        principal,
        requestId: req.id,
        stream: record.stream,
        bodyBytes: (req.body as Buffer).length,
        signal: abort.signal,
      });

      // 6. quota: one atomic Redis call — RPM, TPM (prompt + max output reserved), concurrency lease,
      //    spend budgets — for the org, the key and the org×model of the model that will serve;
      //    settled in finalize on every path
      record.quota = await this.quota.admit(principal, route.model, route.plan.promptTokens, route.plan.maxOutputTokens);
      // 7. schedule: wait in the pool's queue (priority class, then fair share between organizations)
      //    for a pod with headroom, chosen by load and prefix affinity; shed with retry-after at the
      //    class's queue timeout or when the queue is full. A client that disconnects leaves the queue.
      // 8. dispatch: send on that pod, retry before the first byte on another pod of the pool; a pool
      //    that fails every attempt hands the request to the next model of the fallback chain
      const served = await this.runner.run(
        route,
        {
          endpoint,
          stream: record.stream,
          requestId: req.id,
          signal: abort.signal,
          simFault: req.headers['x-sim-fault'] as string | undefined,
          accepted: () => (record.accepted = true),
        },
        {
          admitted: (lease) => (record.queueMs = lease.waitedMs),
          fallback: async (next) => {
            // The fallback is admitted against its own limits and prices; nothing was generated yet.
            // Not awaited: during a Redis outage a settlement retries for up to the lease time, and the
            // fallback must not wait for it (settle runs once; its lease is renewed until it lands).
            void record.quota?.settle({ promptTokens: 0, completionTokens: 0 });
            record.accepted = false;
            record.promptTokens = next.plan.promptTokens;
            record.quota = await this.quota.admit(principal, next.model, next.plan.promptTokens, next.plan.maxOutputTokens);
          },
        },
      );
      route = served.route;
      const result = served.result;
      release = result.release;
      record.pod = result.pod.id;
      record.model = route.model;
      record.promptTokens = route.plan.promptTokens;
      record.fallbackFrom = route.fallback?.from;

      // 9. respond: JSON as is (`model`: the client's name, or the fallback's), or relay the stream
      if (result.kind === 'json') {
        result.json.model = route.responseModel;
        record.usage = result.json.usage as Usage | undefined;
        await reply.headers({ ...record.quota.headers, ...route.headers }).header('content-type', 'application/json').send(JSON.stringify(result.json));
        return;
      }
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        'x-request-id': req.id,
        ...record.quota.headers,
        ...route.headers,
      });
      const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
      const outcome = await relaySse(reply.raw, result.first, result.rest, {
        clientModel: route.responseModel,
        upstreamModel: route.model.servedModel,
        includeUsage: streamOptions?.include_usage === true,
        adapter: result.adapter,
        signal: abort.signal,
        // A client that stops reading is cut after this; the finally below frees what it held.
        stallTimeoutMs: this.config.edge.streamStallTimeoutMs,
        clock: this.clock,
        onFirstChunk: () => (record.ttftMs = performance.now() - record.startedAt),
      });
      record.usage = outcome.usage;
      record.outputChunks = outcome.outputChunks;
      record.clientGone = outcome.clientGone;
      record.stalled = outcome.stalled;
      record.error = outcome.error;
      reply.raw.end();
    } catch (err) {
      if (abort.signal.aborted) {
        record.clientGone = true;
        record.status = 499;
      } else {
        record.error = sendError(reply, err, this.logger);
        record.status = record.error.status;
      }
    } finally {
      // Whatever ended the response (an error event, a malformed chunk), the upstream request ends
      // with it so the pod stops generating; after a complete response this does nothing.
      abort.abort();
      // (the runtime's prefix-cache hit teaches the scheduler how far to trust its affinity table)
      release?.(record.usage);
      admitted?.release();
      this.lifecycle.end();
      // 10. finalize: settle the quota with the real usage, metrics, access log
      this.finalizer.finish(record);
    }
  }
}
