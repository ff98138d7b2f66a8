/**
 * Where each prompt prefix is probably cached: block hash → the pods that were last sent a prompt
 * containing that block (most recent first, at most PODS_PER_BLOCK). This is the gateway's own record
 * of what it routed, not the runtime's cache state: cheap to keep exact for what we sent, and right
 * as long as the pod has not evicted the blocks. The table is LRU-bounded per pool, which stands in
 * for the pods' own LRU eviction: the scheduler sizes it to what the pods' KV caches can hold (their
 * scraped capacity, in blocks of this table), so the gateway does not believe in prefixes the pods have
 * long evicted.
 *
 * Cost per request: one Map lookup per prefix block while some pod still matches (match), and one
 * delete + set per block (record). Both bounded by the prefix settings' maxBlocks.
 */
import type { Pod } from '../../fleet/index.js';

const PODS_PER_BLOCK = 4;

export interface PrefixMatch {
  pod: Pod;
  /** Leading blocks of the request's prefix this pod is believed to hold. */
  blocks: number;
}

export class PrefixAffinity {
  /** Map order is recency order: touched entries are re-inserted at the end, the oldest evicted first. */
  private readonly table = new Map<number, Pod[]>();

  constructor(private maxEntries: number) {}

  get size(): number {
    return this.table.size;
  }

  get capacity(): number {
    return this.maxEntries;
  }

  /** Changes the bound (the pods' KV capacity is learned from their metrics); shrinking evicts the oldest. */
  resize(maxEntries: number): void {
    this.maxEntries = Math.max(1, Math.floor(maxEntries));
    this.evict();
  }

  /** Pods holding a non-empty leading run of `hashes`, with the run's length. */
  match(hashes: readonly number[]): PrefixMatch[] {
    const matches: PrefixMatch[] = [];
    for (let i = 0; i < hashes.length; i++) {
      const pods = this.table.get(hashes[i]);
      if (!pods) break;
      let extended = false;
      for (const pod of pods) {
        if (i === 0) {
          matches.push({ pod, blocks: 1 });
          extended = true;
          continue;
        }
        // Only a pod that held every earlier block can extend its run (the hashes are chained, so a
        // later block without the earlier ones only happens after an eviction).
        const m = matches.find((x) => x.pod === pod);
        if (m && m.blocks === i) {
          m.blocks = i + 1;
          extended = true;
        }
      }
      if (!extended) break;
    }
    return matches;
  }

  /** Records that `pod` was sent a prompt with these blocks. */
  record(hashes: readonly number[], pod: Pod): void {
    const { table } = this;
    // Last block first, so a prefix's head ends up the most recent and is evicted after its tail (as
    // the runtimes' LRU does: a request's tail blocks go before its head).
    for (let i = hashes.length - 1; i >= 0; i--) {
      const hash = hashes[i];
      const pods = table.get(hash);
      if (pods) {
        table.delete(hash);
        const at = pods.indexOf(pod);
        if (at !== 0) {
          if (at > 0) pods.splice(at, 1);
          pods.unshift(pod);
          if (pods.length > PODS_PER_BLOCK) pods.length = PODS_PER_BLOCK;
        }
        table.set(hash, pods);
      } else {
        table.set(hash, [pod]);
      }
    }
    this.evict();
  }

  private evict(): void {
    const { table } = this;
    if (table.size <= this.maxEntries) return;
    let excess = table.size - this.maxEntries;
    for (const key of table.keys()) {
      table.delete(key);
      if (--excess === 0) break;
    }
  }

  /** Drops a pod from every entry (it was removed from the pool: its cache is gone). */
  forget(pod: Pod): void {
    for (const [hash, pods] of this.table) {
      const at = pods.indexOf(pod);
      if (at === -1) continue;
      if (pods.length === 1) this.table.delete(hash);
      else pods.splice(at, 1);
    }
  }
}
