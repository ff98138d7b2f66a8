/** Structured JSON logs (pino). Nest's own messages go through the same logger. */
import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'switchyard' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Secrets never reach a log line, whatever a caller passes.
    redact: { paths: ['authorization', 'headers.authorization', 'apiKey', 'req.headers.authorization'], censor: '[redacted]' },
  });
}

export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}

export const LOGGER = Symbol('LOGGER');
