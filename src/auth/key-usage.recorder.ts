/**
 * Last-used times without a write per request: `touch` records the time in memory, and a timer flushes
 * every touched key in one batched UPDATE. The stored time is accurate to the flush interval.
 */
import { isPostgresOutage } from '../errors/index.js';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../observability/index.js';
import { CredentialRepository } from './credential.repository.js';

export const LAST_USED_FLUSH_MS = 5_000;

@Injectable()
export class KeyUsageRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private pending = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<number>;

  constructor(
    private readonly repository: CredentialRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  touch(keyId: string, at = Date.now()): void {
    this.pending.set(keyId, at);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), LAST_USED_FLUSH_MS);
    this.timer.unref();
  }

  /** Writes everything touched since the last flush; returns how many keys were written. */
  async flush(): Promise<number> {
    await this.flushing;
    if (!this.pending.size) return 0;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.repository.recordLastUsed([...batch]).then(
      () => batch.size,
      (err: unknown) => {
        // Keep the times for the next flush (newer touches win).
        for (const [keyId, at] of batch) if (!this.pending.has(keyId)) this.pending.set(keyId, at);
        // A PostgreSQL outage is logged once by the dependency monitor; only other failures here.
        if (!isPostgresOutage(err)) this.logger.warn({ err, keys: batch.size }, 'writing API key last-used times failed; will retry');
        return 0;
      },
    );
    return this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
