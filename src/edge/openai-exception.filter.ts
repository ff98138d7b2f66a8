/** Everything Nest catches outside the inference pipeline (unknown routes, /v1/models, admin) leaves as OpenAI's error object. */
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { LOGGER } from '../observability/index.js';
import { sendError, toApiError } from './error-response.js';

@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    sendError(reply, this.translate(exception), this.logger);
  }

  private translate(exception: unknown): unknown {
    if (toApiError(exception)) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) {
        const req = exception.message.replace(/^Cannot /, '');
        return new ApiError(ErrorCode.UnknownRoute, `Invalid URL (${req})`);
      }
      if (status === 405) return new ApiError(ErrorCode.MethodNotAllowed, exception.message);
      if (status === 413) return new ApiError(ErrorCode.PayloadTooLarge, exception.message);
      if (status === 400) return new ApiError(ErrorCode.InvalidRequest, exception.message);
    }
    return exception;
  }
}
