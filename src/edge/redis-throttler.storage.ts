/**
 * @nestjs/throttler storage on Redis, so per-IP limits hold across every replica. One script call per
 * check: a fixed window counter plus a block key once the limit is passed. Used by the admin API's
 * ThrottlerGuard and by /v1's explicit throttle step. If Redis is unreachable the edge throttle steps
 * aside (counted in switchyard_quota_errors_total{stage="ip_throttle"}): the quota stage applies its
 * own fail mode.
 */
import { Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { MetricsService } from '../observability/index.js';
import { RedisService } from '../redis/index.js';

const SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {hits, ttl, 1, blocked} end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, ttl, 1, tonumber(ARGV[3])}
end
return {hits, ttl, 0, 0}
`;

interface ThrottleCommand {
  throttleHit(hitKey: string, blockKey: string, ttlMs: number, limit: number, blockMs: number): Promise<number[]>;
}

@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly redis: Redis & ThrottleCommand;

  constructor(
    private readonly redisService: RedisService,
    private readonly metrics: MetricsService,
  ) {
    const client = redisService.client as Redis & ThrottleCommand;
    client.defineCommand('throttleHit', { numberOfKeys: 2, lua: SCRIPT });
    this.redis = client;
  }

  /** ttl and blockDuration in ms; the record's times in seconds, as @nestjs/throttler expects. */
  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string) {
    const base = `throttle:${throttlerName}:${key}`;
    let reply: number[];
    try {
      reply = await this.redis.throttleHit(`${base}:hits`, `${base}:block`, ttl, limit, blockDuration || ttl);
    } catch (err) {
      this.metrics.quotaErrors.inc({ stage: 'ip_throttle' });
      // Logged once per Redis outage (DependencyMonitor), counted per request.
      this.redisService.failed(err, 'ip_throttle');
      return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    }
    const [hits, ttlMs, blocked, blockMs] = reply;
    return {
      totalHits: Number(hits),
      timeToExpire: Math.ceil(Math.max(0, Number(ttlMs)) / 1000),
      isBlocked: Number(blocked) === 1,
      timeToBlockExpire: Math.ceil(Math.max(0, Number(blockMs)) / 1000),
    };
  }
}
