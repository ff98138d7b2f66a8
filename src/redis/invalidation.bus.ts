/**
 * Cache invalidation across replicas over Redis pub/sub, for every in-process cache (principals, limit
 * policies). A replica that changes something applies the change locally at once, then publishes;
 * every replica (itself included) applies it when the message arrives, typically within milliseconds.
 *
 * Messages sent while a subscriber was disconnected are lost, so on every reconnect the bus
 * re-subscribes first and then asks each listener to resync (drop or reload everything). While
 * disconnected, listeners are told they are `degraded` so they can bound how long they trust entries.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LOGGER } from '../observability/index.js';
import { RedisService } from './redis.service.js';

export interface InvalidationListener<T> {
  /** Parses and checks a message; undefined drops it as malformed. */
  parse(raw: unknown): T | undefined;
  apply(event: T): void;
  /** Called after a reconnect: messages may have been missed. */
  resync(): void;
  degraded(isDegraded: boolean): void;
}

@Injectable()
export class InvalidationBus implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscriber?: Redis;
  private subscribedOnce = false;
  private closing = false;
  private readonly listeners = new Map<string, InvalidationListener<unknown>>();

  constructor(
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Registers the listener of a channel (before bootstrap). */
  listen<T>(channel: string, listener: InvalidationListener<T>): void {
    this.listeners.set(channel, listener as InvalidationListener<unknown>);
  }

  /** Subscribes before the gateway listens; fails start-up when Redis is unreachable. */
  async onApplicationBootstrap(): Promise<void> {
    const subscriber = this.redis.client.duplicate({ lazyConnect: true, autoResubscribe: false, enableOfflineQueue: false, maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('error', () => {
      /* reconnects on its own; 'close' marks listeners degraded meanwhile */
    });
    subscriber.on('message', (channel: string, message: string) => this.receive(channel, message));
    subscriber.on('close', () => {
      if (!this.closing) for (const l of this.listeners.values()) l.degraded(true);
    });
    subscriber.on('ready', () => {
      if (this.subscribedOnce) void this.resubscribe();
    });
    await subscriber.connect();
    await subscriber.subscribe(...this.listeners.keys());
    this.subscribedOnce = true;
    for (const l of this.listeners.values()) l.degraded(false);
  }

  /** Applies locally now, then tells every replica. Call after the database change has committed. */
  async publish<T>(channel: string, event: T): Promise<void> {
    this.listeners.get(channel)?.apply(event);
    try {
      await this.redis.client.publish(channel, JSON.stringify(event));
    } catch (err) {
      // The change is committed; other replicas see it when their entries expire. Loud, because it
      // weakens the "within a second on every replica" guarantee.
      this.logger.error({ err, channel, event }, 'broadcasting a cache invalidation failed; other replicas see the change when their cache entries expire');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.subscriber?.disconnect();
  }

  private async resubscribe(): Promise<void> {
    try {
      await this.subscriber!.subscribe(...this.listeners.keys());
      for (const l of this.listeners.values()) {
        l.resync();
        l.degraded(false);
      }
      this.logger.warn('invalidation subscription restored; caches resynced');
    } catch (err) {
      this.logger.warn({ err }, 'invalidation re-subscribe failed; will retry on the next reconnect');
    }
  }

  private receive(channel: string, message: string): void {
    const listener = this.listeners.get(channel);
    if (!listener) return;
    let event: unknown;
    try {
      event = listener.parse(JSON.parse(message));
    } catch {
      event = undefined;
    }
    if (event === undefined) {
      this.logger.warn({ channel }, 'ignoring a malformed invalidation message');
      return;
    }
    listener.apply(event);
  }
}
