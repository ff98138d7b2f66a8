/**
 * Principal-cache invalidation on every replica: revoking, rotating or suspending reaches every
 * gateway within milliseconds through tenancy's change events. While the subscription is down the
 * cache is `degraded` (entries trusted for at most a second); after a reconnect it is cleared.
 */
import { Injectable } from '@nestjs/common';
import { TenancyEvents } from '../tenancy/index.js';
import { PrincipalCache } from './principal.cache.js';

@Injectable()
export class PrincipalInvalidation {
  constructor(events: TenancyEvents, cache: PrincipalCache) {
    events.listen({
      apply: (event) => (event.kind === 'key' ? cache.invalidateKey(event.id) : cache.invalidateOrg(event.id)),
      resync: () => cache.clear(),
      degraded: (isDegraded) => (cache.degraded = isDegraded),
    });
  }
}
