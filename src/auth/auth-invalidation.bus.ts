/**
 * Cache invalidation across replicas over Redis pub/sub. A replica that changes a key or an
 * organization drops its own cache entries at once, then publishes; every replica (itself included)
 * drops the matching entries when the message arrives, typically within a few milliseconds.
 *
 * Messages sent while a subscriber was disconnected are lost, so on every reconnect the subscriber
 * re-subscribes first and then clears the whole cache; while disconnected the cache is `degraded`
 * (entries trusted for at most a second). Publishing happens after the database change has committed.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LOGGER } from '../observability/logger.js';
import { RedisService } from '../redis/redis.service.js';
import { PrincipalCache } from './principal.cache.js';

export const AUTH_INVALIDATION_CHANNEL = 'switchyard:auth:invalidate';

export type Invalidation = { kind: 'key'; id: string } | { kind: 'org'; id: string };

@Injectable()
export class AuthInvalidationBus implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscriber?: Redis;
  private subscribedOnce = false;
  private closing = false;

  constructor(
    private readonly redis: RedisService,
    private readonly cache: PrincipalCache,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Subscribes before the gateway listens; fails start-up when Redis is unreachable. */
  async onApplicationBootstrap(): Promise<void> {
    const subscriber = this.redis.client.duplicate({ lazyConnect: true, autoResubscribe: false, enableOfflineQueue: false, maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('error', () => {
      /* reconnects on its own; 'close' marks the cache degraded meanwhile */
    });
    subscriber.on('message', (_channel: string, message: string) => this.receive(message));
    subscriber.on('close', () => {
      if (!this.closing) this.cache.degraded = true;
    });
    subscriber.on('ready', () => {
      if (this.subscribedOnce) void this.resubscribe();
    });
    await subscriber.connect();
    await subscriber.subscribe(AUTH_INVALIDATION_CHANNEL);
    this.subscribedOnce = true;
    this.cache.degraded = false;
  }

  /** Drops this replica's entries now, then tells every replica. */
  async publish(event: Invalidation): Promise<void> {
    this.apply(event);
    try {
      await this.redis.client.publish(AUTH_INVALIDATION_CHANNEL, JSON.stringify(event));
    } catch (err) {
      // The change is committed; other replicas fall back to their cache TTL (or a second, if their
      // own subscription is down too). Loud, because it weakens the revocation guarantee.
      this.logger.error({ err, event }, 'broadcasting an auth cache invalidation failed; other replicas see the change when their cache entry expires');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.subscriber?.disconnect();
  }

  private async resubscribe(): Promise<void> {
    try {
      await this.subscriber!.subscribe(AUTH_INVALIDATION_CHANNEL);
      // Anything published while we were away is lost: forget everything read before now.
      this.cache.clear();
      this.cache.degraded = false;
      this.logger.warn('auth invalidation subscription restored; principal cache cleared');
    } catch (err) {
      this.logger.warn({ err }, 'auth invalidation re-subscribe failed; will retry on the next reconnect');
    }
  }

  private receive(message: string): void {
    let event: Invalidation;
    try {
      event = JSON.parse(message) as Invalidation;
    } catch {
      this.logger.warn('ignoring a malformed auth invalidation message');
      return;
    }
    if ((event.kind === 'key' || event.kind === 'org') && typeof event.id === 'string') this.apply(event);
  }

  private apply(event: Invalidation): void {
    if (event.kind === 'key') this.cache.invalidateKey(event.id);
    else this.cache.invalidateOrg(event.id);
  }
}
