/**
 * TensorRT-LLM's OpenAI-compatible server, `trtllm-serve` (docs/source/commands/trtllm-serve.rst and
 * tensorrt_llm/serve/openai_server.py, openai_protocol.py in NVIDIA/TensorRT-LLM).
 *
 * Paths: /v1/chat/completions and /v1/completions (documented). Embeddings are not in the documented
 * API; /v1/embeddings is what recent sources define, and a server without it answers 404, which
 * becomes 502 upstream_error. Health: GET /health, 200 or 503 once the executor has failed. Load:
 * trtllm.metrics.ts.
 *
 * Requests: trtllm-serve's request models forbid unknown fields, so an OpenAI field it does not know
 * is refused with 400. The fields the gateway itself acts on or that have no effect on generation are
 * dropped here (`service_tier`: our scheduler's; `store`, `metadata`, `prompt_cache_key`,
 * `safety_identifier`); anything else is sent as is, and what trtllm-serve refuses comes back as its
 * 400. `stream_options` is sent only with `stream: true` (trtllm-serve refuses it otherwise), with
 * `include_usage` forced on as for vLLM. The organization's `cache_salt` goes with chat requests only:
 * trtllm-serve's CompletionRequest has no such field, so its /v1/completions prefix cache is shared.
 *
 * Errors: {"object":"error","message","type","param","code":<status>} (flat); request-validation
 * failures as {"error":"<text>"} with 400; FastAPI's {"detail": ...} for unknown routes. trtllm-serve
 * answers 400 for any exception while preparing a request, including ones that are the server's own:
 * those reach the client as invalid_request_error with the server's message, as with any 400.
 * Context-length overflows are recognised by their wording (max_seq_len, maximum input length).
 * A failure after a stream has started ends the stream without an error event (the relay then reports
 * an interrupted stream); an error-shaped event is still recognised.
 */
import type { ApiError } from '../../errors/index.js';
import { runtimeError, stringField } from '../runtime-errors.js';
import type { InferenceEndpoint, RuntimeAdapter, RuntimeKind, UpstreamRequestContext } from '../runtime-adapter.js';
import { TRTLLM_METRICS_SOURCES } from './trtllm.metrics.js';

const PATHS: Record<InferenceEndpoint, string> = {
  'chat.completions': '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
};

/** OpenAI request fields trtllm-serve would refuse and that mean nothing to the generation. */
const DROPPED_FIELDS = ['service_tier', 'store', 'metadata', 'prompt_cache_key', 'safety_identifier'] as const;

// "The sum of prompt length (4000) and query length (0) max_tokens (2048) should not exceed max_seq_len (4096)",
// "... exceeds maximum input length ...", and OpenAI's own wording.
const CONTEXT_LENGTH = /max_seq_len|max_input_len|maximum input length|maximum context length|context length/i;

export class TrtllmAdapter implements RuntimeAdapter {
  readonly kind: RuntimeKind = 'trtllm';
  readonly healthPath = '/health';
  readonly metricsSources = TRTLLM_METRICS_SOURCES;

  path(endpoint: InferenceEndpoint): string {
    return PATHS[endpoint];
  }

  upstreamHeaders(ctx: UpstreamRequestContext): Record<string, string> {
    return { 'content-type': 'application/json', 'x-request-id': ctx.requestId };
  }

  upstreamBody(endpoint: InferenceEndpoint, body: Record<string, unknown>, servedModel: string, cacheSalt?: string): Record<string, unknown> {
    const out: Record<string, unknown> = { ...body, model: servedModel };
    for (const field of DROPPED_FIELDS) delete out[field];
    // trtllm-serve takes `cache_salt` on chat requests only (its CompletionRequest forbids it).
    delete out.cache_salt;
    if (cacheSalt !== undefined && endpoint === 'chat.completions') out.cache_salt = cacheSalt;
    if (endpoint !== 'embeddings' && body.stream === true) {
      out.stream_options = { ...((body.stream_options as object) ?? {}), include_usage: true };
    } else {
      delete out.stream_options;
    }
    return out;
  }

  translateError(status: number, body: unknown): ApiError {
    return runtimeError(status, errorFields(body), CONTEXT_LENGTH);
  }

  isStreamError(payload: Record<string, unknown>): boolean {
    return payload.object === 'error' || (payload.error !== undefined && payload.error !== null);
  }
}

function errorFields(body: unknown): { message?: string; param?: string | null } {
  if (!body || typeof body !== 'object') return {};
  const b = body as { error?: unknown; message?: unknown; param?: unknown; detail?: unknown };
  if (typeof b.error === 'string') return { message: stringField(b.error) };
  if (b.error && typeof b.error === 'object') {
    const nested = b.error as { message?: unknown; param?: unknown };
    return { message: stringField(nested.message), param: stringField(nested.param) ?? null };
  }
  if (b.message !== undefined) return { message: stringField(b.message), param: stringField(b.param) ?? null };
  return { message: typeof b.detail === 'string' ? b.detail : undefined };
}
