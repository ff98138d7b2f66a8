/**
 * vLLM's OpenAI-compatible server (`vllm serve`). Paths are OpenAI's; health at /health; load from
 * Prometheus /metrics (vllm.metrics.ts). vLLM ≥ 0.10.1 reports errors as
 * {"error": {"message","type","param","code":<http status>}}; older servers sent the same fields flat
 * with "object":"error". Both are read here and re-issued as OpenAI error objects.
 */
import type { ApiError } from '../../errors/index.js';
import { runtimeError, stringField } from '../runtime-errors.js';
import type { InferenceEndpoint, MetricsSource, RuntimeAdapter, RuntimeKind, UpstreamRequestContext } from '../runtime-adapter.js';
import { parseVllmMetrics } from './vllm.metrics.js';

const PATHS: Record<InferenceEndpoint, string> = {
  'chat.completions': '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
};

const CONTEXT_LENGTH = /maximum context length|context length/i;

const METRICS: readonly MetricsSource[] = [{ path: '/metrics', parse: parseVllmMetrics }];

export class VllmAdapter implements RuntimeAdapter {
  readonly kind: RuntimeKind = 'vllm';
  readonly healthPath = '/health';
  readonly metricsSources = METRICS;

  path(endpoint: InferenceEndpoint): string {
    return PATHS[endpoint];
  }

  upstreamHeaders(ctx: UpstreamRequestContext): Record<string, string> {
    // vLLM uses x-request-id as its own request id (logs, --enable-request-id-headers).
    return { 'content-type': 'application/json', 'x-request-id': ctx.requestId };
  }

  upstreamBody(endpoint: InferenceEndpoint, body: Record<string, unknown>, servedModel: string, cacheSalt?: string): Record<string, unknown> {
    const out: Record<string, unknown> = { ...body, model: servedModel };
    // vLLM (V1 engine) salts the first KV block's hash with it: no prefix-cache hits across salts.
    delete out.cache_salt;
    if (cacheSalt !== undefined && endpoint !== 'embeddings') out.cache_salt = cacheSalt;
    if (endpoint !== 'embeddings' && body.stream === true) {
      // Always meter: the runtime reports usage at the end of every stream; the relay drops that
      // chunk unless the client asked for it.
      out.stream_options = { ...((body.stream_options as object) ?? {}), include_usage: true };
    }
    return out;
  }

  translateError(status: number, body: unknown): ApiError {
    const fields = errorFields(body);
    return runtimeError(status, { message: stringField(fields.message), param: stringField(fields.param) ?? null }, CONTEXT_LENGTH);
  }

  isStreamError(payload: Record<string, unknown>): boolean {
    return payload.object === 'error' || (payload.error !== undefined && payload.error !== null);
  }
}

function errorFields(body: unknown): { message?: unknown; param?: unknown } {
  if (!body || typeof body !== 'object') return {};
  const nested = (body as { error?: unknown }).error;
  return (nested && typeof nested === 'object' ? nested : body) as { message?: unknown; param?: unknown };
}
