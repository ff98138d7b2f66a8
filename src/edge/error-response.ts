/**
 * Writes any thrown value as OpenAI's error object. ApiError carries its own status and code; Fastify's
 * own errors (body too large, bad content type) are mapped; anything else is a bug in our code and
 * becomes 500 `server_error`, logged with its stack.
 */
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';

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
    default:
      return undefined;
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
