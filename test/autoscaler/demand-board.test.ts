/** Demand shared through the real Redis: fresh entries are summed, a dead replica's stale entry is dropped. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { DemandBoard } from '../../src/autoscaler/demand-board.js';

const redis = new Redis(process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
after(() => redis.disconnect());

describe('demand board', () => {
  it('sums the replicas that reported within maxAgeMs, takes the worst TTFT p90, and forgets stale replicas', async () => {
    const board = new DemandBoard(redis, `test:demand:${randomUUID()}`);
    const at = Date.UTC(2030, 0, 1);
    const d = (interactive: number, inFlight: number, ttftP90Ms: number | null) => new Map([['p', { interactive, flex: 1, batch: 2, inFlight, ttftP90Ms }]]);
    await board.publish('a', d(3, 4, 900), at, 1_000);
    await board.publish('b', d(5, 6, 1_500), at + 500, 1_000);
    await board.publish('dead', d(100, 100, 9_000), at - 2_000, 1_000);
    assert.deepEqual(await board.total('p', at + 600, 1_000), { interactive: 8, flex: 2, batch: 4, inFlight: 10, ttftP90Ms: 1_500, replicas: 2 });
    assert.deepEqual(Object.keys(await redis.hgetall(`${(board as unknown as { prefix: string }).prefix}:demand:p`)).sort(), ['a', 'b'], 'the stale entry was deleted');
    assert.deepEqual(await board.total('other', at, 1_000), { interactive: 0, flex: 0, batch: 0, inFlight: 0, ttftP90Ms: null, replicas: 0 });
  });
});
