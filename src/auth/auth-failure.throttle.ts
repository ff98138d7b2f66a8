/**
 * Failed authentications (401) counted per client address, on /v1 and the admin API alike: an address
 * past SWITCHYARD_AUTH_FAILURES_PER_MINUTE is refused with 429 for a minute, for anything that is not a
 * key already cached as valid. A known key is never slowed by this: its authentication reads no
 * counter, and a blocked address behind a shared NAT does not lock out its valid, cached keys.
 *
 * Where the count lives: in Redis (the edge's throttle storage, one fixed-window counter per address),
 * so every replica counts toward one limit and an attacker spread over replicas by a load balancer is
 * not given N times the budget. Only failures cost a round trip (awaited, so the verdict is exact);
 * the verdict is mirrored in process until the block ends, so a blocked address costs no Redis call at
 * all, and another replica learns of a block on that address's next failure there. Redis unreachable:
 * the count steps aside (the storage's fail-open, counted in switchyard_quota_errors_total).
 */
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../clock/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { RedisThrottlerStorage } from '../edge/index.js';
import { MetricsService } from '../observability/index.js';

const MINUTE_MS = 60_000;
/** Blocked addresses remembered in process; the oldest block is forgotten first (Redis still has it). */
const MAX_BLOCKED = 100_000;

@Injectable()
export class AuthFailureThrottle {
  /** Address → clock.now() at which its block ends. */
  private readonly blocked = new Map<string, number>();
  private readonly limit: number;

  constructor(
    private readonly storage: RedisThrottlerStorage,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limit = config.edge.authFailuresPerMinute;
  }

  /** Whole seconds `source` stays blocked (0: it is not). In process: no I/O. */
  blockedSeconds(source: string): number {
    const until = this.blocked.get(source);
    if (until === undefined) return 0;
    const left = until - this.clock.now();
    if (left <= 0) {
      this.blocked.delete(source);
      return 0;
    }
    return Math.max(1, Math.ceil(left / 1000));
  }

  /** Counts one failed authentication of `source`; the seconds it is now blocked (0: it is not). */
  async record(source: string): Promise<number> {
    if (this.limit === 0) return 0;
    const record = await this.storage.increment(source, MINUTE_MS, this.limit, MINUTE_MS, 'authfail');
    if (!record.isBlocked) return 0;
    const seconds = Math.max(1, record.timeToBlockExpire);
    if (this.blocked.size >= MAX_BLOCKED) this.blocked.delete(this.blocked.keys().next().value!);
    this.blocked.set(source, this.clock.now() + seconds * 1000);
    return seconds;
  }

  /** The 429 for a blocked address (counted as a pre-auth rejection by address). */
  refusalHeaders(seconds: number): Record<string, string> {
    this.metrics.quotaRejections.inc({ scope: 'ip', kind: 'auth_failures' });
    return { 'retry-after': String(seconds), 'retry-after-ms': String(seconds * 1000) };
  }
}
