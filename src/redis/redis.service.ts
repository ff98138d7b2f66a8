/**
 * The shared ioredis connection: connected and health-checked at boot. Its connection events tell the
 * DependencyMonitor when Redis is lost (logged once) and back (logged once); commands issued meanwhile
 * fail at once and their callers report them with `failed` (counted, not logged).
 */
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { DependencyMonitor } from '../observability/index.js';

@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  readonly client: Redis;
  private closing = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly monitor: DependencyMonitor,
  ) {
    // Commands fail fast while disconnected instead of queueing: a hung limit check is worse than an error.
    this.client = new Redis(config.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      // Concurrent requests' commands share one write: fewer syscalls on the hot path under load.
      enableAutoPipelining: true,
    });
    // ioredis reconnects on its own (every failed attempt emits 'error'); the monitor logs the outage
    // once and the recovery once.
    this.client.on('error', (err: Error) => {
      if (!this.closing) monitor.failed('redis', err, 'connection');
    });
    this.client.on('close', () => {
      if (!this.closing) monitor.failed('redis', new Error('connection closed'), 'connection');
    });
    this.client.on('ready', () => monitor.recovered('redis'));
  }

  /** Connects at start-up; fails it when Redis is unreachable. */
  async onModuleInit(): Promise<void> {
    try {
      await this.client.connect();
      await this.ping();
    } catch (err) {
      throw new Error(`Redis is not reachable at SWITCHYARD_REDIS_URL: ${(err as Error).message}`);
    }
  }

  async ping(): Promise<void> {
    const reply = await this.client.ping();
    if (reply !== 'PONG') throw new Error(`unexpected PING reply: ${reply}`);
  }

  /**
   * A caller that degrades around Redis (fail-open limits, a skipped throttle) reports the failure
   * here instead of logging it: counted per `stage`, logged once per outage.
   */
  failed(err: unknown, stage: string): void {
    this.monitor.failed('redis', err, stage);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.client.disconnect();
  }
}
