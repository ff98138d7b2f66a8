/**
 * Everything Nest catches outside the inference pipeline (unknown routes, /v1/models, admin, Fastify's
 * own body and content-type errors) leaves as OpenAI's error object: our ApiErrors as they are, the
 * framework's HTTP errors by their status; only what is neither is a 500 server_error (logged).
 */
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { LOGGER } from '../observability/index.js';
import { httpStatusError, sendError, toApiError } from './error-response.js';

@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    sendError(reply, this.translate(exception), this.logger);
  }

  private translate(exception: unknown): unknown {
    const known = toApiError(exception);
    if (known) return known;
    if (exception instanceof HttpException) {
      // Fastify's own errors arrive wrapped, with the original (and its FST_ code) as the cause.
      return toApiError(exception.cause) ?? httpStatusError(exception.getStatus(), exception.message) ?? exception;
    }
    return exception;
  }
}
