/**
 * The HTTP server's edge: who the client is (trusted proxies), how long a request may take to arrive,
 * how bodies are read, and what a client gets when its connection breaks the rules before a route runs.
 *
 * Time limits (docs/architecture.md, "Edge"): headers within `headersTimeoutMs` of the request's first
 * byte, the whole request within `requestTimeoutMs` (a body trickled or stopped half-way included),
 * idle keep-alive connections closed after `keepAliveTimeoutMs`. Node enforces the first two and
 * answers 408 through the `clientError` handler below; it checks them every CHECK_INTERVAL_MS at most
 * (Node's default of 30 s would let a stalled request live half a minute past its limit). Responses
 * are not timed here: a response being generated is bounded by the upstream timeouts, and a stream
 * whose client stops reading by the SSE relay's stall timeout.
 */
import type { Socket } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyHttpOptions, FastifyInstance } from 'fastify';
import type { AppConfig } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { readBody } from './body-reader.js';

const MAX_CHECK_INTERVAL_MS = 1_000;

/** Fastify options for the edge; the caller adds its own (request ids, logger, framework errors). */
export function edgeServerOptions(config: AppConfig): FastifyHttpOptions<Server> {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, trustedProxies } = config.edge;
  return {
    bodyLimit: config.bodyLimitBytes,
    // Only the listed proxies' X-Forwarded-For is believed: the client is the address just before the
    // first untrusted hop, counted from the socket, so a client cannot choose its own address by
    // sending the header. No list: the socket's address, whatever the headers say.
    trustProxy: trustedProxies.length ? trustedProxies : false,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    http: {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(MAX_CHECK_INTERVAL_MS, Math.max(10, Math.floor(headersTimeoutMs / 4))),
    },
    clientErrorHandler: answerClientError,
  };
}

/**
 * A connection-level error before any route ran (Node's request or headers timeout, an unparseable
 * request, headers too large): answered in OpenAI's error shape, then the connection is closed.
 *
 * Node also reports ERR_HTTP_REQUEST_TIMEOUT for a connection that has not sent a byte: it times a
 * new connection from its acceptance, and its check (a timer) can run before the loop reads bytes
 * already waiting in the kernel. On a loaded replica whose loop stalled past the headers timeout, a
 * client that had written its whole request was answered 408 for it (the soak's three 408s). So a
 * connection with nothing read yet is looked at again once the loop has polled it: if the request
 * has come in, Node parses and times it like any other; if not, the connection is closed without an
 * answer (a 408 would be read by a client that writes on it now as the answer to that request).
 * Nothing is written over a response already under way (Node's own rule).
 */
function answerClientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === 0) {
    // Node reports the same connection again at every check until a message begins or it closes.
    if (awaitingFirstByte.has(socket)) return;
    awaitingFirstByte.add(socket);
    setImmediate(() => {
      awaitingFirstByte.delete(socket);
      if (socket.bytesRead === 0) socket.destroy();
    });
    return;
  }
  const error =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new ApiError(ErrorCode.RequestTimeout, 'The request did not arrive in time: its headers or body took too long.')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new ApiError(ErrorCode.HeadersTooLarge, 'The request headers are larger than this server accepts.')
        : new ApiError(ErrorCode.InvalidRequest, 'The request is not valid HTTP.');
  const body = JSON.stringify(error.toBody());
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    socket.write(
      `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}

/** Connections reported timed out before sending a byte, until the loop has polled them once more. */
const awaitingFirstByte = new WeakSet<Socket>();

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Every content type is read by `readBody` (the limit, and the drain of an over-limit body). /v1 bodies
 * stay raw: the pipeline parses them so malformed JSON gets OpenAI's error shape, and any content type
 * is accepted (curl -d sends form encoding by default). Elsewhere (the admin API) the body is JSON.
 */
export function registerBodyParser(fastify: FastifyInstance, config: AppConfig): void {
  const limits = { limitBytes: config.bodyLimitBytes, drainBytes: config.bodyDrainBytes };
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (req, payload, done) => {
    readBody(payload, req.headers['content-length'], limits).then((body) => {
      if (req.url.startsWith('/v1/')) return done(null, body);
      let parsed: unknown;
      try {
        parsed = body.length ? JSON.parse(body.toString()) : undefined;
      } catch (err) {
        (err as { code?: string }).code = 'FST_ERR_CTP_INVALID_JSON_BODY';
        return done(err as Error, undefined);
      }
      done(null, parsed);
    }, (err: Error) => done(err, undefined));
  });
}
