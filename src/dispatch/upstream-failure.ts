/**
 * Stable codes for every way an upstream call fails (named after undici's UND_ERR_* codes they come
 * from). Retry and ejection decisions switch on these, never on messages.
 */
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';

export type UpstreamFailureCode =
  | 'connect_failed' // refused, reset or timed out before a response: the pod is down
  | 'headers_timeout'
  | 'body_timeout'
  | 'upstream_5xx' // the runtime answered 5xx before any output
  | 'upstream_busy' // the runtime answered 429 (its queue is full): retry elsewhere, the pod is not sick
  | 'stream_cut' // the body ended or broke before completion
  | 'aborted'; // our client went away

export class UpstreamFailure extends Error {
  constructor(
    readonly code: UpstreamFailureCode,
    message: string,
    /** The error to show the client if no retry succeeds. */
    readonly apiError: ApiError,
  ) {
    super(message);
  }

  /** Safe to retry on another pod: nothing was sent to the client yet, and the failure is the pod's. */
  get retryable(): boolean {
    return this.code !== 'aborted';
  }
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** Classifies an error thrown by undici (or by reading its body). */
export function classifyUpstreamError(err: unknown, phase: 'connect' | 'body'): UpstreamFailure {
  const code = (err as { code?: string })?.code ?? '';
  const name = (err as { name?: string })?.name ?? '';
  const message = (err as Error)?.message ?? String(err);
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') {
    return new UpstreamFailure('aborted', message, new ApiError(ErrorCode.ClientClosedRequest, 'The client closed the request before the response was complete.'));
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new UpstreamFailure('headers_timeout', message, new ApiError(ErrorCode.UpstreamTimeout, 'The inference server did not respond in time.'));
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new UpstreamFailure('body_timeout', message, new ApiError(ErrorCode.UpstreamTimeout, 'The inference server stopped sending output.'));
  }
  if (phase === 'connect' && (CONNECT_CODES.has(code) || /ECONNREFUSED|other side closed/.test(message))) {
    return new UpstreamFailure('connect_failed', message, new ApiError(ErrorCode.UpstreamConnectFailed, 'Could not reach an inference server for this model.'));
  }
  return new UpstreamFailure('stream_cut', message, new ApiError(ErrorCode.UpstreamStreamInterrupted, 'The inference server closed the connection before the response was complete.'));
}
