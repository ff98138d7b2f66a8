/**
 * Principal-cache invalidation on every replica: revoking, rotating or suspending reaches every
 * gateway within milliseconds through the shared InvalidationBus. While the subscription is down the
 * cache is `degraded` (entries trusted for at most a second); after a reconnect it is cleared.
 */
import { Injectable } from '@nestjs/common';
import { InvalidationBus } from '../redis/invalidation.bus.js';
import { PrincipalCache } from './principal.cache.js';

export const AUTH_INVALIDATION_CHANNEL = 'switchyard:auth:invalidate';

export type Invalidation = { kind: 'key'; id: string } | { kind: 'org'; id: string };

@Injectable()
export class AuthInvalidationBus {
  constructor(
    private readonly bus: InvalidationBus,
    private readonly cache: PrincipalCache,
  ) {
    bus.listen<Invalidation>(AUTH_INVALIDATION_CHANNEL, {
      parse: (raw) => {
        const e = raw as Partial<Invalidation>;
        return (e?.kind === 'key' || e?.kind === 'org') && typeof e.id === 'string' ? (e as Invalidation) : undefined;
      },
      apply: (event) => (event.kind === 'key' ? this.cache.invalidateKey(event.id) : this.cache.invalidateOrg(event.id)),
      resync: () => this.cache.clear(),
      degraded: (isDegraded) => (this.cache.degraded = isDegraded),
    });
  }

  /** Drops this replica's entries now, then tells every replica. Call after the change has committed. */
  publish(event: Invalidation): Promise<void> {
    return this.bus.publish(AUTH_INVALIDATION_CHANNEL, event);
  }
}
