/**
 * Builds and starts a gateway: Fastify edge (request id, trusted proxies, time limits, body limit,
 * raw body for /v1), then Nest's start-up hooks in module order (database, Redis, catalogue,
 * tokenizers, fleet; then the bootstrap hooks), then listen. Used by main.ts and by the e2e tests.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { setupAdminDocs } from './admin/index.js';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/index.js';
import { httpStatusError, sendError, toApiError } from './edge/index.js';
import { LifecycleService } from './edge/index.js';
import { edgeServerOptions, registerBodyParser } from './edge/index.js';
import { InferencePipeline } from './inference/index.js';
import { registerInferenceRoutes } from './inference/index.js';
import { NestPinoLogger, createLogger } from './observability/index.js';

export interface Gateway {
  app: NestFastifyApplication;
  url: string;
  logger: Logger;
  /** Stops taking work, drains in-flight requests (up to the grace period), then stops pods. */
  shutdown(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function startGateway(config: AppConfig, logger: Logger = createLogger(config.logLevel)): Promise<Gateway> {
  const adapter = new FastifyAdapter({
    // Body limit, trusted proxies, time limits, connection-level errors in OpenAI's shape (edge/http-server.ts).
    ...edgeServerOptions(config),
    // While draining, requests on open keep-alive connections reach the pipeline, which answers 503
    // shutting_down in OpenAI's error shape (Fastify's own 503 is not).
    return503OnClosing: false,
    // Keep the client's request id when it is sane, otherwise mint one.
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req_${randomUUID().replace(/-/g, '')}`;
    },
    logger: false,
    // Fastify's own routing errors (a malformed URL, an over-long path parameter) never reach Nest's
    // exception filter: they get OpenAI's error object here.
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      reply.header('x-request-id', req.id);
      sendError(reply, toApiError(err) ?? httpStatusError(err.statusCode ?? 500, err.message) ?? err, logger);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logger), adapter, {
    bodyParser: false,
    logger: new NestPinoLogger(logger),
  });
  setupAdminDocs(app);
  const fastify = app.getHttpAdapter().getInstance();
  // Bodies: raw for /v1, JSON elsewhere; an over-limit body is drained before its 413.
  registerBodyParser(fastify, config);
  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  registerInferenceRoutes(fastify, app.get(InferencePipeline));

  // Start-up is Nest's lifecycle, module by module, dependencies first (docs/architecture.md): PostgreSQL
  // and Redis reachable, catalogue seeded and loaded, tokenizers warm, the fleet's pods started; then the
  // bootstrap hooks: first admin key, limit policies, invalidation bus, fleet monitor, BullMQ workers.
  await app.init();

  await app.listen(config.port, config.host);
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;

  let shuttingDown: Promise<void> | undefined;
  const shutdown = () =>
    (shuttingDown ??= (async () => {
      const lifecycle = app.get(LifecycleService);
      lifecycle.draining = true;
      // Stop accepting, let in-flight requests finish (up to the grace period), then cut what is left:
      // idle keep-alive connections, or streams still running when the grace period ends.
      const closing = app.close();
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([lifecycle.idle(), new Promise((resolve) => (grace = setTimeout(resolve, config.shutdownGraceMs)))]);
      clearTimeout(grace);
      fastify.server.closeAllConnections();
      await closing;
    })());
  return { app, url, logger, shutdown };
}
