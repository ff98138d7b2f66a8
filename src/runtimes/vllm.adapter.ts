/**
 * vLLM's OpenAI-compatible server (and runtimes/sim, which speaks it). vLLM ≥ 0.10.1 reports errors as
 * {"error": {"message","type","param","code":<http status>}}; older servers sent the same fields flat with
 * "object":"error". Both are read here and re-issued as OpenAI error objects.
 */
import { ApiError } from '../errors/api-error.js';
import { ErrorCode } from '../errors/error-codes.js';
import type { InferenceEndpoint, RuntimeAdapter } from './runtime-adapter.js';

const PATHS: Record<InferenceEndpoint, string> = {
  'chat.completions': '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
};

interface VllmError {
  message?: unknown;
  type?: unknown;
  param?: unknown;
  code?: unknown;
}

function errorFields(body: unknown): VllmError {
  if (!body || typeof body !== 'object') return {};
  const nested = (body as { error?: unknown }).error;
  return (nested && typeof nested === 'object' ? nested : body) as VllmError;
}

export class VllmAdapter implements RuntimeAdapter {
  readonly kind = 'vllm';

  path(endpoint: InferenceEndpoint): string {
    return PATHS[endpoint];
  }

  upstreamBody(endpoint: InferenceEndpoint, body: Record<string, unknown>, servedModel: string): Record<string, unknown> {
    const out: Record<string, unknown> = { ...body, model: servedModel };
    if (endpoint !== 'embeddings' && body.stream === true) {
      // Always meter: the runtime reports usage at the end of every stream; the relay drops that
      // chunk unless the client asked for it.
      out.stream_options = { ...((body.stream_options as object) ?? {}), include_usage: true };
    }
    return out;
  }

  translateError(status: number, body: unknown): ApiError {
    const fields = errorFields(body);
    const message = typeof fields.message === 'string' && fields.message ? fields.message : `upstream returned HTTP ${status}`;
    const param = typeof fields.param === 'string' ? fields.param : null;
    if (status === 400 || status === 422) {
      const code = /maximum context length|context length/i.test(message) ? ErrorCode.ContextLengthExceeded : ErrorCode.InvalidRequest;
      return new ApiError(code, message, param);
    }
    // The pod is up but refuses work: its queue is full (429) or it cannot serve right now (503). Not
    // "no pod in rotation" (that is the scheduler's no_pod_available): the dispatcher has already
    // retried on the pool's other pods when this reaches the client.
    if (status === 429) {
      return new ApiError(ErrorCode.UpstreamUnavailable, 'The inference servers for this model are overloaded. Please retry shortly.', null, { 'retry-after': '1' });
    }
    if (status === 503) {
      return new ApiError(ErrorCode.UpstreamUnavailable, 'The inference servers for this model are temporarily unavailable. Please retry shortly.', null, { 'retry-after': '1' });
    }
    // 404 from a runtime means our catalogue names a model the pod does not serve: that is our fault.
    return new ApiError(ErrorCode.UpstreamError, `The inference server failed to process the request (HTTP ${status}).`);
  }

  isStreamError(payload: Record<string, unknown>): boolean {
    return payload.object === 'error' || (payload.error !== undefined && payload.error !== null);
  }
}
