/**
 * Changes to keys and organizations that every replica's caches must hear of (revoke, rotate, suspend,
 * tier or model-list changes), over the shared InvalidationBus. Tenancy publishes after the change has
 * committed; the auth stage listens (auth/principal-invalidation.ts) and drops its cached principals.
 */
import { Injectable } from '@nestjs/common';
import { InvalidationBus, type InvalidationListener } from '../redis/index.js';

export const TENANCY_CHANGES_CHANNEL = 'switchyard:auth:invalidate';

export type TenancyChange = { kind: 'key'; id: string } | { kind: 'org'; id: string };

@Injectable()
export class TenancyEvents {
  constructor(private readonly bus: InvalidationBus) {}

  /** Drops this replica's entries now, then tells every replica. Call after the change has committed. */
  publish(event: TenancyChange): Promise<void> {
    return this.bus.publish(TENANCY_CHANGES_CHANNEL, event);
  }

  /** Registers the one listener of tenancy changes on this replica (before bootstrap). */
  listen(listener: Omit<InvalidationListener<TenancyChange>, 'parse'>): void {
    this.bus.listen<TenancyChange>(TENANCY_CHANGES_CHANNEL, {
      parse: (raw) => {
        const e = raw as Partial<TenancyChange>;
        return (e?.kind === 'key' || e?.kind === 'org') && typeof e.id === 'string' ? (e as TenancyChange) : undefined;
      },
      ...listener,
    });
  }
}
