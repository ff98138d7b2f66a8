/** The shared ioredis connection: connected and health-checked at boot. */
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/index.js';

@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    // Commands fail fast while disconnected instead of queueing: a hung limit check is worse than an error.
    this.client = new Redis(config.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      // Concurrent requests' commands share one write: fewer syscalls on the hot path under load.
      enableAutoPipelining: true,
    });
    this.client.on('error', () => {
      /* reconnects on its own; readiness reports the state */
    });
  }

  async connect(): Promise<void> {
    await this.client.connect();
    await this.ping();
  }

  async ping(): Promise<void> {
    const reply = await this.client.ping();
    if (reply !== 'PONG') throw new Error(`unexpected PING reply: ${reply}`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.client.disconnect();
  }
}
