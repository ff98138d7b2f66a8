/**
 * The end of every /v1 request, whatever happened: settle the quota with the real usage (or the best
 * estimate when the runtime's never arrived), record metrics, compare token counts, write the access
 * log line.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Principal } from '../tenancy/index.js';
import type { CatalogModel } from '../catalog/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { LOGGER } from '../observability/index.js';
import { MetricsService } from '../observability/index.js';
import type { QuotaTicket } from '../quota/index.js';
import type { InferenceEndpoint } from '../runtimes/index.js';
import type { Usage } from '../runtimes/index.js';

/** What the end of a request needs to know about it, filled in as the pipeline goes. */
export interface RequestRecord {
  requestId: string;
  endpoint: InferenceEndpoint;
  startedAt: number;
  principal?: Principal;
  model?: CatalogModel;
  stream: boolean;
  /** Our exact count, compared with the runtime's at the end. */
  promptTokens?: number;
  quota?: QuotaTicket;
  /** A runtime accepted the request (its prefill runs), though no response may have started. */
  accepted?: boolean;
  /** Streamed chunks with output, for settling the quota when the runtime's usage never arrived. */
  outputChunks?: number;
  pod?: string;
  /** Time waited in the scheduler's queue (last admission). */
  queueMs?: number;
  /** The requested model, when a fallback served. */
  fallbackFrom?: string;
  status: number;
  ttftMs?: number;
  usage?: Usage;
  error?: ApiError;
  clientGone: boolean;
  /** A streaming client that stopped reading and was cut (the SSE relay's stall timeout). */
  stalled?: boolean;
}

const CLIENT_CLOSED = new ApiError(ErrorCode.ClientClosedRequest, 'The client closed the request.');
const CLIENT_STALLED = new ApiError(ErrorCode.ClientReadTimeout, 'The client stopped reading the stream; it was ended.');

@Injectable()
export class RequestFinalizer {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  finish(r: RequestRecord): void {
    // Real usage when the runtime reported it; otherwise our prompt count and the chunks relayed
    // (client gone, upstream cut) — the reservation never simply stands. A client that left after a
    // runtime accepted the request (before the first byte, or before a non-streamed answer) pays for
    // the prefill it started; a request that failed before reaching one pays nothing.
    // An answer too large to relay was generated in full: its whole reservation is charged.
    const generatedInFull = r.error?.code === ErrorCode.ResponseTooLarge;
    const prefilled = r.pod !== undefined || (r.accepted === true && (r.clientGone || generatedInFull));
    void r.quota?.settle({
      promptTokens: r.usage?.prompt_tokens ?? (prefilled ? (r.promptTokens ?? 0) : 0),
      completionTokens: r.usage?.completion_tokens ?? r.outputChunks ?? (generatedInFull ? (r.quota?.reserved.completionTokens ?? 0) : 0),
    });
    const model = r.model?.name ?? 'unknown';
    const seconds = (performance.now() - r.startedAt) / 1000;
    // A client that left is recorded as such (499 client_closed_request), whatever failed after it:
    // the abort it caused is not the runtime's failure.
    // One that stopped reading and was cut is recorded as 408 client_read_timeout.
    const gone = r.stalled ? CLIENT_STALLED : r.clientGone ? CLIENT_CLOSED : undefined;
    const error = gone ?? r.error;
    const status = gone ? gone.status : r.status;
    if (r.stalled) this.metrics.streamClientStalls.inc({ model });
    this.metrics.requests.inc({ model, endpoint: r.endpoint, status });
    this.metrics.latency.observe({ model, endpoint: r.endpoint, stream: String(r.stream) }, seconds);
    if (r.ttftMs !== undefined) this.metrics.ttft.observe({ model }, r.ttftMs / 1000);
    if (error) this.metrics.errors.inc({ model, type: error.type, code: error.code });
    if (r.usage) {
      this.metrics.tokens.inc({ model, kind: 'prompt' }, r.usage.prompt_tokens ?? 0);
      this.metrics.tokens.inc({ model, kind: 'completion' }, r.usage.completion_tokens ?? 0);
      const cached = r.usage.prompt_tokens_details?.cached_tokens ?? 0;
      if (cached) this.metrics.tokens.inc({ model, kind: 'cached' }, cached);
      // A mismatch means the catalogue's tokenizer or chat template is wrong for this model.
      if (r.promptTokens !== undefined && r.usage.prompt_tokens !== r.promptTokens) {
        this.metrics.promptTokenMismatch.inc({ model });
        this.logger.warn({ requestId: r.requestId, model, ours: r.promptTokens, runtime: r.usage.prompt_tokens }, 'prompt token count differs from the runtime');
      }
    }
    this.logger.info(
      {
        requestId: r.requestId,
        endpoint: r.endpoint,
        model,
        key: r.principal?.keyPrefix,
        org: r.principal?.orgId,
        pod: r.pod,
        fallbackFrom: r.fallbackFrom,
        queueMs: r.queueMs === undefined ? undefined : Math.round(r.queueMs * 10) / 10,
        stream: r.stream,
        status,
        durationMs: Math.round(seconds * 1000 * 10) / 10,
        ttftMs: r.ttftMs === undefined ? undefined : Math.round(r.ttftMs * 10) / 10,
        promptTokens: r.usage?.prompt_tokens ?? r.promptTokens,
        completionTokens: r.usage?.completion_tokens,
        error: error?.code,
      },
      'request finished',
    );
  }
}
