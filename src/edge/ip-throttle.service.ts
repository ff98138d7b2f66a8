/**
 * Per-client-IP protection before authentication, so a flood (of bad keys, say) is stopped at the edge
 * and never reaches the key cache's database fallback. Shared across replicas through Redis; if Redis
 * is unreachable the edge throttle steps aside (the quota stage applies its own policy).
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { ApiError } from '../errors/api-error.js';
import { ErrorCode } from '../errors/error-codes.js';
import { LOGGER } from '../observability/logger.js';
import { MetricsService } from '../observability/metrics.service.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';

const MINUTE_MS = 60_000;

@Injectable()
export class IpThrottleService {
  constructor(
    private readonly storage: RedisThrottlerStorage,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Throws 429 when `ip` is over the per-minute limit of `name` ('v1' or 'admin'). */
  async check(name: 'v1' | 'admin', ip: string): Promise<void> {
    const limit = name === 'v1' ? this.config.edge.ipRequestsPerMinute : this.config.edge.adminIpRequestsPerMinute;
    if (limit === 0) return;
    let record;
    try {
      record = await this.storage.increment(ip, MINUTE_MS, limit, MINUTE_MS, name);
    } catch (err) {
      this.metrics.quotaErrors.inc({ stage: 'ip_throttle' });
      this.logger.warn({ err }, 'ip throttle unavailable; skipping');
      return;
    }
    if (record.isBlocked) {
      this.metrics.quotaRejections.inc({ scope: 'ip', kind: name });
      const seconds = Math.max(1, record.timeToBlockExpire);
      throw new ApiError(ErrorCode.RateLimitExceeded, `Too many requests from your address. Please try again in ${seconds}s.`, null, {
        'retry-after': String(seconds),
        'retry-after-ms': String(seconds * 1000),
      });
    }
  }
}
