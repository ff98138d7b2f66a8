/**
 * The status half of error translation, shared by the adapters: each adapter digs the message and
 * param out of its runtime's error body and says how that runtime words a context-length overflow.
 */
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';

export interface RuntimeErrorFields {
  message?: string;
  param?: string | null;
}

export function runtimeError(status: number, fields: RuntimeErrorFields, contextLength: RegExp): ApiError {
  const message = fields.message || `upstream returned HTTP ${status}`;
  if (status === 400 || status === 422) {
    // The request's fault: the client sees the runtime's own words.
    const code = contextLength.test(message) ? ErrorCode.ContextLengthExceeded : ErrorCode.InvalidRequest;
    return new ApiError(code, message, fields.param ?? null);
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
  // 404 from a runtime means our catalogue names a model or route the pod does not serve: our fault,
  // as is anything else; the runtime's message is not shown.
  return new ApiError(ErrorCode.UpstreamError, `The inference server failed to process the request (HTTP ${status}).`);
}

export function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}
