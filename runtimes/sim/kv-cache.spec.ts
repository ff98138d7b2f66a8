import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLOCK_SIZE, KvCache, type KvSeq } from './kv-cache.js';

function seq(ids: number[], cacheSalt?: string): KvSeq {
  return { tokenIds: ids, blocks: [], blockHashes: [], cacheSalt };
}

const range = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

describe('KvCache', () => {
  it('allocates whole 16-token blocks and reports usage as the fraction of blocks held', () => {
    const kv = new KvCache(10);
    const s = seq(range(0, 40));
    assert.equal(kv.allocate(s, 33), true);
    assert.equal(s.blocks.length, 3);
    assert.ok(Math.abs(kv.usage() - 0.3) < 1e-12);
    assert.equal(kv.allocate(s, 48), true, 'growing within the last block needs nothing new');
    assert.equal(s.blocks.length, 3);
    kv.free(s);
    assert.equal(kv.usage(), 0);
  });

  it('refuses an allocation the free pool cannot satisfy, changing nothing', () => {
    const kv = new KvCache(4);
    const a = seq(range(0, 64));
    assert.equal(kv.allocate(a, 48), true);
    const b = seq(range(100, 64));
    assert.equal(kv.allocate(b, 32), false);
    assert.deepEqual(b.blocks, []);
    assert.equal(kv.numFreeBlocks, 1);
  });

  it('finds the cached prefix of full blocks only, capped by maxTokens', () => {
    const kv = new KvCache(16);
    const a = seq(range(0, 50));
    kv.allocate(a, 50);
    kv.cacheFullBlocks(a, 50); // 3 full blocks
    const b = seq([...range(0, 40), 999, 998]);
    assert.equal(kv.findCachedPrefix(b, 41).length, 2, 'block 3 differs at token 40');
    assert.equal(kv.findCachedPrefix(seq(range(0, 50)), 49).length, 3);
    assert.equal(kv.findCachedPrefix(seq(range(0, 48)), 47).length, 2, 'the last token is never a hit');
    assert.equal(kv.findCachedPrefix(seq([1, ...range(1, 49)]), 49).length, 0);
  });

  it('shares cached blocks only between sequences with the same cache_salt (none is a salt of its own)', () => {
    const kv = new KvCache(32);
    const a = seq(range(0, 64), 'org-a');
    kv.allocate(a, 64);
    kv.cacheFullBlocks(a, 64);
    assert.equal(kv.findCachedPrefix(seq(range(0, 64), 'org-a'), 63).length, 3);
    assert.equal(kv.findCachedPrefix(seq(range(0, 64), 'org-b'), 63).length, 0);
    assert.equal(kv.findCachedPrefix(seq(range(0, 64)), 63).length, 0);
    const plain = seq(range(0, 64));
    kv.allocate(plain, 64);
    kv.cacheFullBlocks(plain, 64);
    assert.equal(kv.findCachedPrefix(seq(range(0, 64)), 63).length, 3);
    assert.equal(kv.findCachedPrefix(seq(range(0, 64), 'org-b'), 63).length, 0);
  });

  it('shares cached blocks between sequences by reference count', () => {
    const kv = new KvCache(8);
    const a = seq(range(0, 64));
    kv.allocate(a, 64);
    kv.cacheFullBlocks(a, 64);
    const b = seq(range(0, 64));
    const hits = kv.findCachedPrefix(b, 63);
    assert.equal(hits.length, 3);
    assert.equal(kv.allocate(b, 64, hits), true);
    assert.deepEqual(b.blocks.slice(0, 3), a.blocks.slice(0, 3));
    assert.equal(kv.numFreeBlocks, 8 - 5, 'only the private last block was new');
    kv.free(a);
    assert.equal(kv.numFreeBlocks, 8 - 4, 'shared blocks stay held by b');
  });

  it('keeps freed blocks hittable until evicted least-recently-used first, suffix blocks before prefix blocks', () => {
    const kv = new KvCache(4);
    const a = seq(range(0, 4 * BLOCK_SIZE));
    kv.allocate(a, 64);
    kv.cacheFullBlocks(a, 64);
    kv.free(a);
    assert.equal(kv.usage(), 0, 'evictable cached blocks count as free');
    assert.equal(kv.findCachedPrefix(seq(range(0, 64)), 64).length, 4);
    // Take one new block: the LRU victim is a's last block, so its first three stay cached.
    const b = seq(range(1000, 16));
    kv.allocate(b, 16);
    assert.equal(kv.findCachedPrefix(seq(range(0, 64)), 64).length, 3);
    const c = seq(range(2000, 32));
    kv.allocate(c, 32);
    assert.equal(kv.findCachedPrefix(seq(range(0, 64)), 64).length, 1);
  });

  it('adopting a cached block that sits in the free queue counts against free blocks', () => {
    const kv = new KvCache(3);
    const a = seq(range(0, 48));
    kv.allocate(a, 48);
    kv.cacheFullBlocks(a, 48);
    kv.free(a);
    const b = seq(range(0, 64));
    const hits = kv.findCachedPrefix(b, 63);
    assert.equal(hits.length, 3);
    assert.equal(kv.allocate(b, 64, hits), false, '3 hits + 1 new block > 3 blocks');
    assert.equal(kv.allocate(b, 48, hits), true);
    assert.equal(kv.usage(), 1);
  });
});
