/**
 * Turns `Authorization: Bearer <key>` into a principal. Until tenancy lands there is one bootstrap key
 * from config; the comparison hashes both sides and compares digests in constant time, so timing says
 * nothing about how much of a wrong key matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ApiError } from '../errors/api-error.js';
import { ErrorCode } from '../errors/error-codes.js';

export interface Principal {
  orgId: string;
  keyId: string;
  /** Display prefix of the key (never the secret), for logs. */
  keyPrefix: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

@Injectable()
export class AuthService {
  private readonly bootstrapDigest: Buffer;
  private readonly bootstrapPrincipal: Principal;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.bootstrapDigest = digest(config.bootstrapApiKey);
    this.bootstrapPrincipal = { orgId: 'default', keyId: 'bootstrap', keyPrefix: config.bootstrapApiKey.slice(0, 8) };
  }

  authenticate(authorization: string | undefined): Principal {
    if (!authorization) {
      throw new ApiError(
        ErrorCode.InvalidApiKey,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new ApiError(ErrorCode.InvalidApiKey, 'Malformed Authorization header: expected "Bearer <key>".');
    if (!timingSafeEqual(digest(match[1]!), this.bootstrapDigest)) {
      throw new ApiError(ErrorCode.InvalidApiKey, `Incorrect API key provided: ${redact(match[1]!)}.`);
    }
    return this.bootstrapPrincipal;
  }
}

/** OpenAI shows the first and last few characters of a wrong key; so do we, never more. */
function redact(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(Math.min(key.length - 7, 20))}${key.slice(-4)}`;
}
