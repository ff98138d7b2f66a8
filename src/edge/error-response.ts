/**
 * Writes any thrown value as OpenAI's error object. ApiError carries its own status and code; Fastify's
 * own errors (body too large, bad content type) are mapped; anything else is a bug in our code and
 * becomes 500 `server_error`, logged with its stack.
 */
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../errors/index.js';
import { ErrorCode, dependencyOutage, dependencyUnavailable } from '../errors/index.js';

export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: string })?.code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(ErrorCode.PayloadTooLarge, 'The request body is larger than this server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(ErrorCode.UnsupportedMediaType, 'Unsupported Content-Type; send application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(ErrorCode.InvalidJson, 'We could not parse the JSON body of your request.');
    default: {
      // PostgreSQL or Redis unreachable: 503 with retry-after (the outage is logged once elsewhere).
      const dependency = dependencyOutage(err);
      return dependency ? dependencyUnavailable(dependency) : undefined;
    }
  }
}

/**
 * A framework's HTTP error by its status: Nest's route-not-found, Fastify's body, content-type and URL
 * errors (which Nest hands over as HttpExceptions), @fastify/static's refusals. A 4xx without a code
 * of its own is a 400 invalid_request_error; a 5xx is not mapped (it is ours: 500, logged).
 */
export function httpStatusError(status: number, message: string): ApiError | undefined {
  switch (status) {
    case 400:
      return new ApiError(ErrorCode.InvalidRequest, message);
    case 401:
      return new ApiError(ErrorCode.InvalidApiKey, message);
    case 403:
      return new ApiError(ErrorCode.PermissionDenied, message);
    case 404: {
      // Nest's not-found handler says "Cannot GET /path"; OpenAI says "Invalid URL (GET /path)".
      const route = /^Cannot ([A-Z]+ \S+)$/.exec(message);
      return route ? new ApiError(ErrorCode.UnknownRoute, `Invalid URL (${route[1]})`) : new ApiError(ErrorCode.NotFound, message);
    }
    case 405:
      return new ApiError(ErrorCode.MethodNotAllowed, message);
    case 413:
      return new ApiError(ErrorCode.PayloadTooLarge, message);
    case 415:
      return new ApiError(ErrorCode.UnsupportedMediaType, message);
    case 429:
      return new ApiError(ErrorCode.RateLimitExceeded, message);
    default:
      return status >= 400 && status < 500 ? new ApiError(ErrorCode.InvalidRequest, message) : undefined;
  }
}

export function sendError(reply: FastifyReply, err: unknown, logger: Logger): ApiError {
  let apiError = toApiError(err);
  if (!apiError) {
    logger.error({ err, requestId: reply.request.id }, 'unhandled error');
    apiError = new ApiError(ErrorCode.Internal, `The server had an error while processing your request. Include the request ID ${reply.request.id} if you report it.`);
  }
  if (reply.sent || reply.raw.headersSent) {
    // Mid-stream: the caller has already written a terminal error event, or the client is gone.
    return apiError;
  }
  void reply.status(apiError.status).headers(apiError.headers).header('content-type', 'application/json').send(JSON.stringify(apiError.toBody()));
  return apiError;
}
