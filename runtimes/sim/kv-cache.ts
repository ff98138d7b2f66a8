/**
 * Paged KV cache with automatic prefix caching, after vLLM V1's KVCacheManager / BlockPool:
 *
 * - The pool has `numBlocks` blocks of `blockSize` (16) tokens. A sequence owns a list of blocks.
 * - Every full block of known token ids gets a chained hash (parent hash + its 16 ids) and is
 *   registered in the hash → block map, so a later sequence with the same prefix reuses it. A
 *   request's `cache_salt` seeds the first block's parent (vLLM mixes it into the first block's extra
 *   keys): requests with different salts share no block, equal salts share as usual.
 * - Blocks nobody references sit in a free queue (doubly linked list over typed arrays, O(1) ops).
 *   A freed block keeps its hash and stays hittable until allocation pops it from the head of the
 *   queue (LRU eviction). Sequences free their blocks tail-first, so a prompt's last blocks are
 *   evicted before its first ones, as vLLM does.
 * - Usage = 1 − free/total, where evictable cached blocks count as free (vLLM's kv_cache_usage_perc).
 */

export const BLOCK_SIZE = 16;

/** What the KV cache needs to know about a sequence. */
export interface KvSeq {
  /** Prompt ids followed by output ids known so far (and possibly the rest of a precomputed output). */
  readonly tokenIds: readonly number[];
  /** Block ids owned, in order. */
  blocks: number[];
  /** Chained hashes of the sequence's full blocks, computed lazily. */
  blockHashes: number[];
  /** vLLM's cache_salt, if the request carried one. */
  readonly cacheSalt?: string;
}

const NIL = -1;

export class KvCache {
  readonly numBlocks: number;
  private readonly refCount: Int32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** Hash of each block, or -1 when the block is not registered in the prefix cache. */
  private readonly blockHash: Float64Array;
  private readonly byHash = new Map<number, number>();
  private head = NIL;
  private tail = NIL;
  private freeCount = 0;

  constructor(
    numBlocks: number,
    readonly enablePrefixCaching = true,
  ) {
    if (!Number.isInteger(numBlocks) || numBlocks < 1) throw new Error(`KV cache needs at least one block, got ${numBlocks}`);
    this.numBlocks = numBlocks;
    this.refCount = new Int32Array(numBlocks);
    this.prev = new Int32Array(numBlocks).fill(NIL);
    this.next = new Int32Array(numBlocks).fill(NIL);
    this.blockHash = new Float64Array(numBlocks).fill(-1);
    for (let b = 0; b < numBlocks; b++) this.pushTail(b);
  }

  get numFreeBlocks(): number {
    return this.freeCount;
  }

  /** Fraction of blocks held by running sequences (0..1). */
  usage(): number {
    return 1 - this.freeCount / this.numBlocks;
  }

  /** Number of blocks currently registered in the prefix cache (owned or evictable). */
  get cachedBlockCount(): number {
    return this.byHash.size;
  }

  /**
   * The longest run of cached blocks that prefixes `seq`, limited to `maxTokens` tokens (vLLM caps
   * hits at num_tokens − 1 so the last token is always recomputed). Does not take references.
   */
  findCachedPrefix(seq: KvSeq, maxTokens: number): number[] {
    if (!this.enablePrefixCaching) return [];
    const maxBlocks = Math.floor(maxTokens / BLOCK_SIZE);
    const hits: number[] = [];
    for (let i = 0; i < maxBlocks; i++) {
      const block = this.byHash.get(this.hashOf(seq, i));
      if (block === undefined) break;
      hits.push(block);
    }
    return hits;
  }

  /**
   * Makes room for `seq` to hold `totalTokens` tokens, first adopting `cachedBlocks` (from
   * findCachedPrefix) when the sequence owns nothing yet. Returns false, changing nothing, when the
   * free pool cannot supply the new blocks.
   */
  allocate(seq: KvSeq, totalTokens: number, cachedBlocks: readonly number[] = []): boolean {
    const required = Math.ceil(totalTokens / BLOCK_SIZE);
    const fresh = required - seq.blocks.length - cachedBlocks.length;
    // Cached blocks nobody references are in the free queue: touching them consumes free blocks too.
    let evictableHits = 0;
    for (const b of cachedBlocks) if (this.refCount[b] === 0) evictableHits++;
    if (Math.max(0, fresh) > this.freeCount - evictableHits) return false;
    for (const b of cachedBlocks) {
      if (this.refCount[b] === 0) this.unlink(b);
      this.refCount[b]++;
      seq.blocks.push(b);
    }
    for (let i = 0; i < fresh; i++) {
      const b = this.popHead();
      this.refCount[b] = 1;
      seq.blocks.push(b);
    }
    return true;
  }

  /**
   * Registers the sequence's full blocks among its first `knownTokens` tokens in the prefix cache.
   * A block whose hash is already cached (computed concurrently by another sequence) stays private.
   */
  cacheFullBlocks(seq: KvSeq, knownTokens: number): void {
    if (!this.enablePrefixCaching) return;
    const full = Math.min(Math.floor(knownTokens / BLOCK_SIZE), seq.blocks.length);
    for (let i = 0; i < full; i++) {
      const b = seq.blocks[i];
      if (this.blockHash[b] !== -1) continue;
      const h = this.hashOf(seq, i);
      if (this.byHash.has(h)) continue;
      this.blockHash[b] = h;
      this.byHash.set(h, b);
    }
  }

  /** Releases the sequence's blocks, last block first, so prefixes outlive suffixes in the LRU. */
  free(seq: KvSeq): void {
    for (let i = seq.blocks.length - 1; i >= 0; i--) {
      const b = seq.blocks[i];
      if (--this.refCount[b] === 0) this.pushTail(b);
    }
    seq.blocks = [];
  }

  /** Drops every evictable cached block from the prefix cache (vLLM's reset_prefix_cache). */
  resetPrefixCache(): void {
    for (const [h, b] of this.byHash) {
      if (this.refCount[b] === 0) {
        this.blockHash[b] = -1;
        this.byHash.delete(h);
      }
    }
  }

  private hashOf(seq: KvSeq, blockIndex: number): number {
    const hashes = seq.blockHashes;
    for (let i = hashes.length; i <= blockIndex; i++) {
      hashes.push(hashBlock(i === 0 ? saltSeed(seq.cacheSalt) : hashes[i - 1], seq.tokenIds, i * BLOCK_SIZE));
    }
    return hashes[blockIndex];
  }

  private popHead(): number {
    const b = this.head;
    if (b === NIL) throw new Error('KV cache free queue is empty');
    this.unlink(b);
    const h = this.blockHash[b];
    if (h !== -1) {
      // Evict: the block is about to be overwritten with other tokens.
      this.byHash.delete(h);
      this.blockHash[b] = -1;
    }
    return b;
  }

  private pushTail(b: number): void {
    this.prev[b] = this.tail;
    this.next[b] = NIL;
    if (this.tail === NIL) this.head = b;
    else this.next[this.tail] = b;
    this.tail = b;
    this.freeCount++;
  }

  private unlink(b: number): void {
    const p = this.prev[b];
    const n = this.next[b];
    if (p === NIL) this.head = n;
    else this.next[p] = n;
    if (n === NIL) this.tail = p;
    else this.prev[n] = p;
    this.prev[b] = NIL;
    this.next[b] = NIL;
    this.freeCount--;
  }
}

/** The parent hash of a sequence's first block: 0 without a salt, else a 53-bit hash of the salt. */
export function saltSeed(salt: string | undefined): number {
  if (!salt) return 0;
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < salt.length; i++) {
    const c = salt.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  // Never 0 (the unsalted seed): a salt must not land in the unsalted namespace.
  return (h2 >>> 11) * 0x100000000 + (h1 >>> 0) || 1;
}

/**
 * Chained hash of one full block: mixes the parent block's hash with the block's 16 token ids
 * (two 32-bit murmur-style lanes folded into a 53-bit safe integer). Collisions are negligible at
 * the ≤ 10^6 blocks a pool holds.
 */
export function hashBlock(parent: number, ids: readonly number[], start: number): number {
  let h1 = (parent % 0x100000000) ^ 0x9e3779b9;
  let h2 = Math.floor(parent / 0x100000000) ^ 0x85ebca6b;
  for (let i = start, end = start + BLOCK_SIZE; i < end; i++) {
    const k = ids[i] | 0;
    h1 = Math.imul(h1 ^ k, 0xcc9e2d51);
    h1 = (h1 << 15) | (h1 >>> 17);
    h2 = Math.imul(h2 ^ k, 0x1b873593) + h1;
    h2 = (h2 << 13) | (h2 >>> 19);
  }
  h1 ^= h2 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h2 ^= h1 >>> 13;
  h2 = Math.imul(h2, 0xc2b2ae35);
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
}
