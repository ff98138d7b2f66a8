/**
 * Sends a request to a pod of the model's pool and hands back the open response. A failure before the
 * client has seen a byte (connect refused, 5xx, a stream that dies before its first chunk) is retried
 * once on another pod; after that the caller owns the response and its errors.
 */
import { Injectable } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import { ApiError } from '../errors/api-error.js';
import { ErrorCode } from '../errors/error-codes.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import { FleetService } from '../fleet/fleet.service.js';
import type { Pod } from '../fleet/pod.js';
import { MetricsService } from '../observability/metrics.service.js';
import { PodPicker } from '../routing/pod-picker.js';
import type { InferenceEndpoint, RuntimeAdapter } from '../runtimes/runtime-adapter.js';
import { VllmAdapter } from '../runtimes/vllm.adapter.js';
import { UpstreamFailure, classifyUpstreamError } from './upstream-failure.js';

const MAX_ATTEMPTS = 2;

export interface DispatchRequest {
  model: CatalogModel;
  endpoint: InferenceEndpoint;
  body: Record<string, unknown>;
  stream: boolean;
  requestId: string;
  signal: AbortSignal;
  /** Fault-injection header, forwarded to simulator pods only. */
  simFault?: string;
}

interface Opened {
  pod: Pod;
  adapter: RuntimeAdapter;
  /** Decrements the pod's in-flight count; call exactly once when the response is finished. */
  release(): void;
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

const vllm = new VllmAdapter();
const ADAPTERS: Record<CatalogModel['runtime'], RuntimeAdapter> = { sim: vllm, vllm, trtllm: vllm };

@Injectable()
export class DispatcherService {
  constructor(
    private readonly picker: PodPicker,
    private readonly fleet: FleetService,
    private readonly metrics: MetricsService,
  ) {}

  async dispatch(req: DispatchRequest): Promise<JsonResult | StreamResult> {
    const adapter = ADAPTERS[req.model.runtime];
    const payload = JSON.stringify(adapter.upstreamBody(req.endpoint, req.body, req.model.servedModel));
    const tried = new Set<Pod>();
    let lastFailure: UpstreamFailure | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const pod = this.picker.pick(req.model.pool, tried);
      if (!pod) break;
      if (attempt > 0) this.metrics.upstreamRetries.inc({ model: req.model.name });
      tried.add(pod);
      pod.inFlight++;
      let released = false;
      const release = () => {
        if (!released) {
          released = true;
          pod.inFlight--;
        }
      };
      try {
        const result = await this.attempt(pod, adapter, req, payload, release);
        this.fleet.reportSuccess(pod);
        return result;
      } catch (err) {
        release();
        if (!(err instanceof UpstreamFailure)) throw err;
        if (!err.retryable || req.signal.aborted) throw err.apiError;
        this.fleet.reportFailure(pod, err.code === 'connect_failed' ? 'connect' : 'server');
        lastFailure = err;
      }
    }
    if (lastFailure) throw lastFailure.apiError;
    throw new ApiError(ErrorCode.NoPodAvailable, `No inference server is available for model \`${req.model.name}\`. Please retry shortly.`, null, {
      'retry-after': '1',
    });
  }

  private async attempt(
    pod: Pod,
    adapter: RuntimeAdapter,
    req: DispatchRequest,
    payload: string,
    release: () => void,
  ): Promise<JsonResult | StreamResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': req.requestId };
    if (req.simFault && req.model.runtime === 'sim') headers['x-sim-fault'] = req.simFault;
    let res: Dispatcher.ResponseData;
    try {
      res = await pod.dispatcher.request({ path: adapter.path(req.endpoint), method: 'POST', headers, body: payload, signal: req.signal });
    } catch (err) {
      throw classifyUpstreamError(err, 'connect');
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      const apiError = adapter.translateError(res.statusCode, safeJson(text));
      if (res.statusCode >= 500 || res.statusCode === 429) {
        throw new UpstreamFailure('upstream_5xx', `HTTP ${res.statusCode} from ${pod.id}`, apiError);
      }
      throw apiError;
    }
    if (!req.stream) {
      try {
        const json = (await res.body.json()) as Record<string, unknown>;
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
