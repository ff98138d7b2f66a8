/**
 * Who may read /metrics and /ready's detail: they expose tenants' model names, pod addresses and
 * dependency errors. With SWITCHYARD_METRICS_TOKEN set, a caller presenting `Authorization: Bearer
 * <token>` (Prometheus: `authorization: {credentials_file: …}`); without it, only a caller on this
 * host's loopback interface that is not a forwarding proxy (no X-Forwarded-For / Forwarded header).
 * The socket's peer address is used, never a forwarded one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError, ErrorCode } from '../errors/index.js';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
const digest = (s: string) => createHash('sha256').update(s).digest();

export class OperatorAccess {
  private readonly expected?: Buffer;

  constructor(token: string | undefined) {
    if (token !== undefined) this.expected = digest(`Bearer ${token}`);
  }

  /** Throws 401/403 in OpenAI's shape unless the caller may read operator detail. */
  assert(req: FastifyRequest, what: string): void {
    if (this.expected) {
      const given = req.headers.authorization;
      // Compared as digests: constant time whatever the lengths.
      if (typeof given === 'string' && timingSafeEqual(digest(given), this.expected)) return;
      throw new ApiError(ErrorCode.InvalidApiKey, `${what} requires the metrics token (Authorization: Bearer <SWITCHYARD_METRICS_TOKEN>).`);
    }
    const local = LOOPBACK.test(req.socket.remoteAddress ?? '') && req.headers['x-forwarded-for'] === undefined && req.headers.forwarded === undefined;
    if (!local) throw new ApiError(ErrorCode.PermissionDenied, `${what} is served only to loopback callers unless SWITCHYARD_METRICS_TOKEN is set.`);
  }
}
