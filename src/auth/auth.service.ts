/**
 * Turns `Authorization: Bearer <key>` into a principal, on every /v1 and admin request.
 *
 * Hot path: format check → HMAC-SHA256(pepper, key) → in-process cache → principal. Only a cache miss
 * reads PostgreSQL: one indexed lookup by hash, deduplicated per hash and capped in concurrency so a
 * flood of random keys cannot take the connection pool from everything else. Unknown and revoked keys
 * are cached briefly too. Error messages show at most the key's display prefix.
 */
import { Injectable } from '@nestjs/common';
import { API_KEY_FORMAT } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { ApiKeyHasher } from '../tenancy/index.js';
import { displayPrefix } from '../tenancy/index.js';
import { AuthMetrics, type AuthRejection } from './auth.metrics.js';
import { CredentialRepository, type StoredCredential } from './credential.repository.js';
import { KeyUsageRecorder } from './key-usage.recorder.js';
import { type Principal, type Scope, effectiveAllowList } from '../tenancy/index.js';
import { type Credential, PrincipalCache } from './principal.cache.js';

/** Concurrent cache-miss queries per replica (the Prisma pool holds 10 connections). */
const MAX_CONCURRENT_LOOKUPS = 4;

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
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly hasher: ApiKeyHasher,
    private readonly repository: CredentialRepository,
    private readonly cache: PrincipalCache,
    private readonly usage: KeyUsageRecorder,
    private readonly metrics: AuthMetrics,
  ) {}

  /**
   * Authenticates the header; with `scopes`, the key must hold at least one of them (else 403).
   * 401 invalid_api_key: missing, malformed, unknown, revoked or expired key. 403: suspended organization.
   */
  /**
   * `beforeLookup` runs only when the key is not in the cache, i.e. when the request would reach the
   * database: the /v1 path puts its per-IP throttle there, so a flood of unknown keys is stopped
   * without costing cached (known) keys a Redis round trip.
   */
  async authenticate(authorization: string | undefined, scopes?: readonly Scope[], beforeLookup?: () => Promise<void>): Promise<Principal> {
    const key = this.parseHeader(authorization);
    const hash = this.hasher.hash(key);
    let credential = this.cache.get(hash);
    this.metrics.cache.inc({ result: credential ? 'hit' : 'miss' });
    if (!credential) {
      await beforeLookup?.();
      credential = await this.lookup(hash);
    }

    if (credential.status !== 'valid') {
      throw this.reject(credential.status, ErrorCode.InvalidApiKey, `Incorrect API key provided: ${displayPrefix(key)}****. Ask your organization's administrator for a valid key.`);
    }
    const { principal } = credential;
    if (credential.keyExpiresAt !== null && credential.keyExpiresAt <= Date.now()) {
      throw this.reject('expired', ErrorCode.InvalidApiKey, `The API key ${principal.keyPrefix}**** expired at ${new Date(credential.keyExpiresAt).toISOString()}.`);
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

  /** One query per hash at a time, at most MAX_CONCURRENT_LOOKUPS at once; the result is cached. */
  private lookup(hash: string): Promise<Credential> {
    let pending = this.inflight.get(hash);
    if (!pending) {
      const epoch = this.cache.epoch;
      pending = this.limited(() => this.repository.findByHash(hash))
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

  private async limited<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so `active` never overshoots.
    if (this.active >= MAX_CONCURRENT_LOOKUPS) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
