/**
 * /v1's per-client-IP protection before authentication (an explicit pipeline step, no guard), so a
 * flood of bad keys is stopped at the edge and never reaches the key cache's database fallback. The
 * admin API has the same limit as a ThrottlerGuard (admin/admin-throttler.guard.ts) on the same storage.
 */
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { MetricsService } from '../observability/index.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';

const MINUTE_MS = 60_000;

@Injectable()
export class IpThrottleService {
  constructor(
    private readonly storage: RedisThrottlerStorage,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Throws 429 when `ip` is over /v1's per-minute limit. */
  async check(ip: string): Promise<void> {
    const limit = this.config.edge.ipRequestsPerMinute;
    if (limit === 0) return;
    const record = await this.storage.increment(ip, MINUTE_MS, limit, MINUTE_MS, 'v1');
    if (record.isBlocked) {
      this.metrics.quotaRejections.inc({ scope: 'ip', kind: 'v1' });
      const seconds = Math.max(1, record.timeToBlockExpire);
      throw new ApiError(ErrorCode.RateLimitExceeded, `Too many requests from your address. Please try again in ${seconds}s.`, null, {
        'retry-after': String(seconds),
        'retry-after-ms': String(seconds * 1000),
      });
    }
  }
}
