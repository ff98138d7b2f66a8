/**
 * Recognises the errors that mean "a dependency is unreachable" — as opposed to a bug or a bad query —
 * so they become 503 `dependency_unavailable` with retry-after instead of a 500. Shapes are matched
 * structurally (this module imports no driver): Prisma's known request errors and its pg driver
 * adapter's errors, node-postgres' own messages and SQLSTATEs, ioredis' connection errors.
 */
import { ApiError } from './api-error.js';
import { ErrorCode } from './error-codes.js';

export type Dependency = 'postgres' | 'redis';

export const DEPENDENCY_NAMES: Record<Dependency, string> = { postgres: 'PostgreSQL', redis: 'Redis' };

/** Seconds a client is told to wait: about how long a restarted PostgreSQL or Redis takes to answer. */
export const DEPENDENCY_RETRY_AFTER_S = 2;

// Prisma: P1001 can't reach, P1002 timed out, P1008 operation timed out, P1017 server closed the
// connection, P2024 timed out waiting for a pooled connection.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
// The pg driver adapter's error kinds for a lost server.
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError']);
// SQLSTATE class 08 (connection exception), 57P01–03 (admin/crash shutdown, cannot connect now), 53300 too many connections.
const SQLSTATE = /^(08...|57P0[123]|53300)$/;
const PG_MESSAGES = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed and is not queryable)/;
const REDIS_MESSAGES = /^(Stream isn't writeable and enableOfflineQueue options is false|Connection is closed\.|Reached the max retries per request limit|connect ETIMEDOUT|Command timed out)/;

type Shape = { name?: unknown; code?: unknown; message?: unknown; meta?: { driverAdapterError?: { cause?: AdapterCause } }; cause?: unknown };
type AdapterCause = { kind?: unknown; originalCode?: unknown; code?: unknown };

function adapterCauseIsOutage(cause: AdapterCause | undefined): boolean {
  if (!cause) return false;
  if (typeof cause.kind === 'string' && ADAPTER_KINDS.has(cause.kind)) return true;
  const sqlState = cause.originalCode ?? cause.code;
  return typeof sqlState === 'string' && SQLSTATE.test(sqlState);
}

/** PostgreSQL is unreachable (or refusing connections), as Prisma or node-postgres reports it. */
export function isPostgresOutage(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as Shape;
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (name === 'PrismaClientKnownRequestError') {
    return (typeof e.code === 'string' && PRISMA_CODES.has(e.code)) || adapterCauseIsOutage(e.meta?.driverAdapterError?.cause);
  }
  if (name === 'PrismaClientInitializationError') return true;
  if (name === 'DriverAdapterError') return adapterCauseIsOutage(e.cause as AdapterCause);
  if (typeof e.code === 'string' && SQLSTATE.test(e.code)) return true;
  return PG_MESSAGES.test(message);
}

/** Redis is unreachable, as ioredis reports it (offline queue disabled, so commands fail at once). */
export function isRedisOutage(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as Shape;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  // A bare ECONNREFUSED is not matched: it could come from anything; ioredis reports those as
  // connection events (RedisService), and commands fail with the messages above.
  return typeof e.message === 'string' && REDIS_MESSAGES.test(e.message);
}

/** Which dependency `err` says is down, if it says so. */
export function dependencyOutage(err: unknown): Dependency | undefined {
  if (isPostgresOutage(err)) return 'postgres';
  if (isRedisOutage(err)) return 'redis';
  return undefined;
}

/** The client's answer while `dependency` is down. */
export function dependencyUnavailable(dependency: Dependency): ApiError {
  return new ApiError(
    ErrorCode.DependencyUnavailable,
    `The service cannot reach its ${dependency === 'postgres' ? 'database' : 'cache'} right now. Please retry in ${DEPENDENCY_RETRY_AFTER_S} seconds.`,
    null,
    { 'retry-after': String(DEPENDENCY_RETRY_AFTER_S), 'retry-after-ms': String(DEPENDENCY_RETRY_AFTER_S * 1000) },
  );
}
