/**
 * Turns `Authorization: Bearer <key>` into a principal, on every /v1 and admin request.
 *
 * Hot path: format check → HMAC-SHA256(pepper, key) → in-process cache → principal. Only a cache miss
 * reads PostgreSQL: one indexed lookup by hash, deduplicated per hash and capped in concurrency so a
 * flood of random keys cannot take the connection pool from everything else. Unknown and revoked keys
 * are cached briefly too, apart from valid keys (principal.cache.ts). Error messages show at most the
 * key's display prefix.
 *
 * Per client address (`source`, the trusted-proxy-aware client IP): cache-miss queries wait their
 * turn round-robin between addresses (fair-limiter.ts), so one address's flood of random keys cannot
 * delay another's lookup; failed authentications are counted (auth-failure.throttle.ts), and an
 * address past its limit gets 429 for anything but a key already cached as valid.
 */
import { Injectable } from '@nestjs/common';
import { API_KEY_FORMAT } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { ApiKeyHasher } from '../tenancy/index.js';
import { displayPrefix } from '../tenancy/index.js';
import { AuthFailureThrottle } from './auth-failure.throttle.js';
import { AuthMetrics, type AuthRejection } from './auth.metrics.js';
import { FairLimiter } from './fair-limiter.js';
import { CredentialRepository, type StoredCredential } from './credential.repository.js';
import { KeyUsageRecorder } from './key-usage.recorder.js';
import { type Principal, type Scope, effectiveAllowList } from '../tenancy/index.js';
import { type Credential, PrincipalCache } from './principal.cache.js';

/** Concurrent cache-miss queries per replica (the Prisma pool holds 10 connections). */
const MAX_CONCURRENT_LOOKUPS = 4;
/** Cache-miss queries one address may have waiting; more get 429 at once. */
const MAX_WAITING_LOOKUPS_PER_SOURCE = 64;

/** Where a request comes from, for the per-address protections. */
export interface AuthContext {
  /** The client address (Fastify's req.ip: the socket, or the last untrusted X-Forwarded-For hop). */
  source?: string;
  /**
   * Runs only when the key is not in the cache, i.e. when the request would reach the database: the
   * /v1 path puts its per-IP request throttle there, so known keys never pay its Redis round trip.
   */
  beforeLookup?: () => Promise<void>;
}

export type { Principal } from '../tenancy/index.js';

export function toCredential(stored: StoredCredential | null): Credential {
  if (!stored) return { status: 'unknown' };
  if (stored.revokedAt) return { status: 'revoked' };
  return {
    status: 'valid',
    orgActive: stored.orgActive,
    keyExpiresAt: stored.expiresAt?.getTime() ?? null,
    principal: {
      orgId: stored.orgId,
      keyId: stored.keyId,
      keyPrefix: stored.keyPrefix,
      tier: stored.orgTier,
      scopes: new Set(stored.scopes),
      allowedModels: effectiveAllowList(stored.orgAllowedModels, stored.keyAllowedModels),
    },
  };
}

@Injectable()
export class AuthService {
  private readonly inflight = new Map<string, Promise<Credential>>();
  private readonly lookups = new FairLimiter(MAX_CONCURRENT_LOOKUPS, MAX_WAITING_LOOKUPS_PER_SOURCE);

  constructor(
    private readonly hasher: ApiKeyHasher,
    private readonly repository: CredentialRepository,
    private readonly cache: PrincipalCache,
    private readonly usage: KeyUsageRecorder,
    private readonly metrics: AuthMetrics,
    private readonly failures: AuthFailureThrottle,
  ) {}

  /**
   * Authenticates the header; with `scopes`, the key must hold at least one of them (else 403).
   * 401 invalid_api_key: missing, malformed, unknown, revoked or expired key. 403: suspended organization.
   * 429: the address is past its failed-authentication limit (unless the key is cached as valid), or has
   * too many lookups waiting.
   */
  async authenticate(authorization: string | undefined, scopes?: readonly Scope[], context: AuthContext = {}): Promise<Principal> {
    const source = context.source ?? '';
    let key: string;
    try {
      key = this.parseHeader(authorization);
    } catch (err) {
      throw await this.failed(source, err as ApiError);
    }
    const hash = this.hasher.hash(key);
    let credential = this.cache.get(hash);
    this.metrics.cache.inc({ result: credential ? 'hit' : 'miss' });
    if (!credential) {
      // A blocked address reaches neither the database nor the request throttle.
      const blocked = this.failures.blockedSeconds(source);
      if (blocked) throw this.throttled(blocked);
      await context.beforeLookup?.();
      credential = await this.lookup(hash, source);
    }

    if (credential.status !== 'valid') {
      throw await this.failed(
        source,
        this.reject(credential.status, ErrorCode.InvalidApiKey, `Incorrect API key provided: ${displayPrefix(key)}****. Ask your organization's administrator for a valid key.`),
      );
    }
    const { principal } = credential;
    if (credential.keyExpiresAt !== null && credential.keyExpiresAt <= Date.now()) {
      throw await this.failed(source, this.reject('expired', ErrorCode.InvalidApiKey, `The API key ${principal.keyPrefix}**** expired at ${new Date(credential.keyExpiresAt).toISOString()}.`));
    }
    if (!credential.orgActive) {
      throw this.reject('suspended', ErrorCode.OrganizationSuspended, 'The organization of this API key is suspended. Contact the platform administrators.');
    }
    if (scopes && !scopes.some((s) => principal.scopes.has(s))) {
      throw this.reject('scope', ErrorCode.PermissionDenied, `This API key lacks the scope this endpoint requires (${scopes.join(' or ')}).`);
    }
    this.usage.touch(principal.keyId);
    return principal;
  }

  private parseHeader(authorization: string | undefined): string {
    if (!authorization) {
      throw this.reject(
        'missing',
        ErrorCode.InvalidApiKey,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw this.reject('malformed', ErrorCode.InvalidApiKey, 'Malformed Authorization header: expected "Bearer <key>".');
    // A string that cannot be a Switchyard key never reaches the database, and is never echoed: it may
    // be some other secret pasted by mistake.
    if (!API_KEY_FORMAT.test(match[1]!)) throw this.reject('malformed', ErrorCode.InvalidApiKey, 'Incorrect API key provided. Switchyard API keys start with sk-sy-.');
    return match[1]!;
  }

  private reject(reason: AuthRejection, code: ErrorCode, message: string): ApiError {
    this.metrics.rejections.inc({ reason });
    return new ApiError(code, message);
  }

  /**
   * A failed authentication (401) of `source`: counted, and answered 429 instead once the address is
   * past its limit. (switchyard_auth_rejections_total still counts why the key failed.)
   */
  private async failed(source: string, error: ApiError): Promise<ApiError> {
    if (error.status !== 401) return error;
    const blocked = this.failures.blockedSeconds(source) || (await this.failures.record(source));
    return blocked ? this.throttled(blocked) : error;
  }

  private throttled(seconds: number): ApiError {
    return new ApiError(
      ErrorCode.RateLimitExceeded,
      `Too many failed authentications from your address. Please try again in ${seconds}s.`,
      null,
      this.failures.refusalHeaders(seconds),
    );
  }

  /**
   * One query per hash at a time, at most MAX_CONCURRENT_LOOKUPS at once, waiting ones served fairly
   * between addresses; the result is cached.
   */
  private lookup(hash: string, source: string): Promise<Credential> {
    let pending = this.inflight.get(hash);
    if (!pending) {
      const epoch = this.cache.epoch;
      const query = this.lookups.run(source, () => this.repository.findByHash(hash));
      if (!query) {
        this.metrics.rejections.inc({ reason: 'lookups_queued' });
        throw new ApiError(ErrorCode.RateLimitExceeded, 'Too many API key lookups from your address at once. Please retry shortly.', null, { 'retry-after': '1', 'retry-after-ms': '1000' });
      }
      pending = query
        .then((stored) => {
          const credential = toCredential(stored);
          this.cache.set(hash, credential, stored && { keyId: stored.keyId, orgId: stored.orgId }, epoch);
          return credential;
        })
        .finally(() => this.inflight.delete(hash));
      this.inflight.set(hash, pending);
    }
    return pending;
  }

}
