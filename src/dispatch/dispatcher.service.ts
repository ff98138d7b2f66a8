/**
 * Sends a request to the pod the scheduler admitted it on and hands back the open response. A failure
 * before the client has seen a byte (connect refused, 5xx/429, a timeout, a stream that dies before its
 * first chunk) is reported to the pod's circuit breaker and retried on another pod of the pool — the
 * lease re-admits it ahead of every queued request — up to `maxAttempts` in all; after that the caller
 * gets the last error (and may move down the fallback chain). After the first byte the caller owns the
 * response and its errors.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import type { CatalogModel } from '../catalog/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { FleetService } from '../fleet/index.js';
import type { Pod } from '../fleet/index.js';
import type { Usage } from '../runtimes/index.js';
import { MetricsService } from '../observability/index.js';
import { adapterFor } from '../runtimes/index.js';
import type { InferenceEndpoint, RuntimeAdapter } from '../runtimes/index.js';
import { NoRetryTarget, type Lease } from '../scheduler/index.js';
import { UpstreamFailure, classifyUpstreamError } from './upstream-failure.js';

export interface DispatchRequest {
  model: CatalogModel;
  endpoint: InferenceEndpoint;
  body: Record<string, unknown>;
  stream: boolean;
  requestId: string;
  signal: AbortSignal;
  /** The runtime's `cache_salt` (routing: the organization's prefix cache), or none. */
  cacheSalt?: string;
  /**
   * The client's x-sim-fault header; forwarded (by the simulator's adapter only) when
   * SWITCHYARD_SIM_FAULT_INJECTION is on, dropped otherwise.
   */
  simFault?: string;
}

interface Opened {
  pod: Pod;
  adapter: RuntimeAdapter;
  /**
   * Frees the pod's admission slot; call when the response is finished (idempotent), with the runtime's
   * usage when it reported one (the scheduler learns the real prefix-cache hit from its cached_tokens).
   */
  release(usage?: Usage): void;
}

export interface JsonResult extends Opened {
  kind: 'json';
  json: Record<string, unknown>;
}

export interface StreamResult extends Opened {
  kind: 'stream';
  first: Buffer;
  rest: AsyncIterator<Buffer>;
}

@Injectable()
export class DispatcherService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly fleet: FleetService,
    private readonly metrics: MetricsService,
  ) {}

  /** Sends on `lease.pod`; owns the lease until it returns (then `release` on the result frees it). */
  async dispatch(req: DispatchRequest, lease: Lease): Promise<JsonResult | StreamResult> {
    const adapter = adapterFor(req.model.runtime);
    let payload: string;
    try {
      payload = JSON.stringify(adapter.upstreamBody(req.endpoint, req.body, req.model.servedModel, req.cacheSalt));
    } catch (err) {
      lease.release(); // the lease is ours until we return: never leave it held
      throw err;
    }
    const maxAttempts = this.config.scheduling.maxAttempts;
    for (;;) {
      const pod = lease.pod;
      const current = lease;
      try {
        const result = await this.attempt(pod, adapter, req, payload, (usage) => current.release(usage?.prompt_tokens_details?.cached_tokens));
        current.firstToken();
        this.fleet.reportSuccess(pod);
        return result;
      } catch (err) {
        if (!(err instanceof UpstreamFailure)) {
          // The runtime answered with a client error: the request's fault, not the pod's.
          current.release();
          throw err;
        }
        if (!err.retryable || req.signal.aborted) {
          current.release();
          throw err.apiError;
        }
        // A runtime's 429 says "busy", not "broken": retry elsewhere without counting it against the pod.
        if (err.code !== 'upstream_busy') this.fleet.reportFailure(pod, err.code === 'connect_failed' ? 'connect' : 'server');
        if (current.attempt + 1 >= maxAttempts) {
          current.release();
          throw err.apiError;
        }
        try {
          lease = await current.retry(req.signal);
        } catch (retryErr) {
          if (retryErr instanceof NoRetryTarget) throw err.apiError;
          throw retryErr;
        }
        this.metrics.upstreamRetries.inc({ model: req.model.name });
      }
    }
  }

  private async attempt(
    pod: Pod,
    adapter: RuntimeAdapter,
    req: DispatchRequest,
    payload: string,
    release: (usage?: Usage) => void,
  ): Promise<JsonResult | StreamResult> {
    const faultInjection = this.config.upstream.simFaultInjection ? req.simFault : undefined;
    const headers = adapter.upstreamHeaders({ requestId: req.requestId, faultInjection });
    let res: Dispatcher.ResponseData;
    try {
      res = await pod.dispatcher.request({ path: adapter.path(req.endpoint), method: 'POST', headers, body: payload, signal: req.signal });
    } catch (err) {
      throw classifyUpstreamError(err, 'connect');
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      const apiError = adapter.translateError(res.statusCode, safeJson(text));
      if (res.statusCode === 429) throw new UpstreamFailure('upstream_busy', `HTTP 429 from ${pod.id}`, apiError);
      if (res.statusCode >= 500) throw new UpstreamFailure('upstream_5xx', `HTTP ${res.statusCode} from ${pod.id}`, apiError);
      throw apiError;
    }
    if (!req.stream) {
      try {
        const json = (await res.body.json()) as Record<string, unknown>;
        if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('the response body is not a JSON object');
        return { kind: 'json', pod, adapter, release, json };
      } catch (err) {
        throw classifyUpstreamError(err, 'body');
      }
    }
    const rest = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let first: IteratorResult<Buffer>;
    try {
      first = await rest.next();
    } catch (err) {
      throw classifyUpstreamError(err, 'body');
    }
    if (first.done) {
      throw classifyUpstreamError(new Error('stream ended before its first chunk'), 'body');
    }
    return { kind: 'stream', pod, adapter, release, first: first.value, rest };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 500) };
  }
}
