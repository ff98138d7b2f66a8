/**
 * The admin API's per-IP limit, @nestjs/throttler's guard on the shared Redis storage (so it holds
 * across replicas): one counter per client address for the whole API (not per route), refused in
 * OpenAI's error shape with retry-after like every other 429. It runs before AdminGuard: a flood of
 * guessed admin keys never reaches the key cache's database fallback.
 */
import { Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { ExecutionContext } from '@nestjs/common';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';

@Injectable()
export class AdminThrottlerGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const seconds = Math.max(1, detail.timeToBlockExpire);
    throw new ApiError(ErrorCode.RateLimitExceeded, `Too many requests from your address. Please try again in ${seconds}s.`, null, {
      'retry-after': String(seconds),
      'retry-after-ms': String(seconds * 1000),
    });
  }
}
