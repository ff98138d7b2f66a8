/**
 * A runtime adapter says how to talk to one kind of inference server: how to shape the upstream
 * request and how to read its errors. Adapters are data plus transforms; the dispatcher is shared.
 */
import type { ApiError } from '../errors/api-error.js';

export type InferenceEndpoint = 'chat.completions' | 'completions' | 'embeddings';

export interface RuntimeAdapter {
  readonly kind: string;
  /** Upstream path for an endpoint. */
  path(endpoint: InferenceEndpoint): string;
  /** Rewrites the client's body for the runtime (served model name, usage always on for streams). */
  upstreamBody(endpoint: InferenceEndpoint, body: Record<string, unknown>, servedModel: string): Record<string, unknown>;
  /** Turns a runtime error response (status + parsed body) into our typed error. */
  translateError(status: number, body: unknown): ApiError;
  /** True when a mid-stream SSE payload is an error event rather than a chunk. */
  isStreamError(payload: Record<string, unknown>): boolean;
}
