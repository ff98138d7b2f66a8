/**
 * The autoscaler's leader lease against the real Redis: one holder at a time, a larger fencing token
 * for every new holder, failover when the holder dies, and no overlap by the holders' own reckoning.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { LeaderLock } from '../../src/autoscaler/leader-lock.js';
import { systemClock } from '../../src/clock/clock.js';
import { eventually } from '../support/eventually.js';

const REDIS = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TTL = 600;
const clients: Redis[] = [];
const logger = pino({ level: 'silent' });

function replica(prefix: string, name: string): { lock: LeaderLock; client: Redis } {
  const client = new Redis(REDIS, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  client.on('error', () => undefined);
  clients.push(client);
  return { lock: new LeaderLock(client, systemClock, logger, { prefix, holderId: `${name}-${randomUUID()}`, ttlMs: TTL }), client };
}

async function connected(...cs: Redis[]): Promise<void> {
  await Promise.all(cs.map((c) => (c.status === 'ready' ? undefined : new Promise((resolve) => c.once('ready', resolve)))));
}

after(() => {
  for (const c of clients) c.disconnect();
});

describe('autoscaler leader lock', () => {
  it('elects one holder; when it dies another takes over within ttl + one renewal, with a larger token and no overlap', async () => {
    const prefix = `test:autoscaler:${randomUUID()}`;
    const a = replica(prefix, 'a');
    const b = replica(prefix, 'b');
    await connected(a.client, b.client);
    a.lock.start();
    await eventually(() => a.lock.isLeader(), 'a to lead');
    b.lock.start();
    // b keeps trying for a few renewal periods and stays a follower while a renews.
    const followerUntil = performance.now() + 3 * TTL;
    await eventually(() => performance.now() > followerUntil || b.lock.isLeader(), 'three lease periods');
    assert.equal(b.lock.isLeader(), false);
    const tokenA = a.lock.fencingToken();
    assert.ok(tokenA > 0);
    assert.equal(await a.lock.stillHolds(), true);

    // a dies: its connection is gone, so it can neither renew nor release.
    const died = performance.now();
    a.client.disconnect();
    let overlap = false;
    await eventually(
      () => {
        if (b.lock.isLeader() && a.lock.isLeader()) overlap = true;
        return b.lock.isLeader();
      },
      'b to take over',
      5_000,
      5,
    );
    const failoverMs = performance.now() - died;
    assert.equal(overlap, false, 'a counted itself leader while b did');
    assert.ok(failoverMs <= TTL + TTL / 3 + 500, `failover took ${failoverMs.toFixed(0)} ms`);
    assert.ok(b.lock.fencingToken() > tokenA, 'the new tenure has a larger fencing token');
    assert.equal(await a.lock.stillHolds(), false);
    await b.lock.stop();
  });

  it('hands the lease over at once when the holder stops (a replica shutting down)', async () => {
    const prefix = `test:autoscaler:${randomUUID()}`;
    const a = replica(prefix, 'a');
    const b = replica(prefix, 'b');
    await connected(a.client, b.client);
    const changes: boolean[] = [];
    a.lock.onChange((leader) => changes.push(leader));
    a.lock.start();
    await eventually(() => a.lock.isLeader(), 'a to lead');
    b.lock.start();
    await a.lock.stop();
    assert.deepEqual(changes, [true, false]);
    const stopped = performance.now();
    await eventually(() => b.lock.isLeader(), 'b to lead', 5_000, 5);
    assert.ok(performance.now() - stopped <= TTL / 3 + 500, 'within one renewal period, not a whole ttl');
    await b.lock.stop();
  });
});
