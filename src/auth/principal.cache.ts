/**
 * In-process cache of key hash → what the database said about that key, so the hot path never queries
 * PostgreSQL for a key it has seen within the TTL. Positive entries live `cacheTtlMs`; unknown and revoked
 * keys live `negativeCacheTtlMs`, so a flood of one wrong key costs one query per replica per window.
 *
 * Valid keys and negative entries are held in two maps, each bounded on its own (`cacheMaxEntries`,
 * `negativeCacheMaxEntries`; the oldest entry goes first): a flood of random keys fills and recycles
 * the negative map only, and can never evict a valid key (which would send its next request to the
 * database, queued behind the flood).
 *
 * Invalidation (by key id or organization id) arrives over Redis pub/sub from whichever replica changed
 * the row. Every invalidation bumps `epoch`; a lookup that began before an invalidation must not store
 * its result, because it may have read the row before the change committed.
 *
 * While the pub/sub subscription is down (`degraded`), no entry is trusted for longer than
 * DEGRADED_MAX_AGE_MS, so a revocation still takes effect within a second, at the price of one
 * query per key per second.
 */
import type { Principal } from '../tenancy/index.js';

export type Credential =
  | {
      status: 'valid';
      principal: Principal;
      orgActive: boolean;
      /** Epoch milliseconds, or null for a key that never expires. Checked on every request. */
      keyExpiresAt: number | null;
    }
  | { status: 'revoked' | 'unknown' };

export interface PrincipalCacheOptions {
  cacheTtlMs: number;
  negativeCacheTtlMs: number;
  cacheMaxEntries: number;
  negativeCacheMaxEntries: number;
}

export const DEGRADED_MAX_AGE_MS = 1_000;

interface Entry {
  credential: Credential;
  storedAt: number;
  expiresAt: number;
  keyId?: string;
  orgId?: string;
}

export class PrincipalCache {
  /** Valid keys. */
  private readonly entries = new Map<string, Entry>();
  /** Unknown and revoked keys: bounded separately, so they cannot push valid keys out. */
  private readonly negatives = new Map<string, Entry>();
  private readonly hashByKey = new Map<string, string>();
  private readonly hashesByOrg = new Map<string, Set<string>>();
  private generation = 0;
  /** Set while invalidation messages cannot arrive (subscriber disconnected). */
  degraded = false;

  constructor(
    private readonly options: PrincipalCacheOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get(hash: string): Credential | undefined {
    const entry = this.entries.get(hash) ?? this.negatives.get(hash);
    if (!entry) return undefined;
    const now = this.now();
    if (entry.expiresAt <= now || (this.degraded && now - entry.storedAt >= DEGRADED_MAX_AGE_MS)) {
      this.remove(hash);
      return undefined;
    }
    return entry.credential;
  }

  /** Increases on every invalidation; read it before a lookup and hand it back to `set`. */
  get epoch(): number {
    return this.generation;
  }

  /** Entries held: valid keys plus negative entries. */
  get size(): number {
    return this.entries.size + this.negatives.size;
  }

  get negativeSize(): number {
    return this.negatives.size;
  }

  /**
   * Stores a lookup's result, unless an invalidation arrived since `epochAtStart`. Returns whether it
   * was stored.
   */
  set(hash: string, credential: Credential, owner: { keyId: string; orgId: string } | null, epochAtStart: number): boolean {
    if (epochAtStart !== this.generation) return false;
    const ttl = credential.status === 'valid' ? this.options.cacheTtlMs : this.options.negativeCacheTtlMs;
    if (ttl <= 0) return false;
    this.remove(hash);
    const [map, max] = credential.status === 'valid' ? [this.entries, this.options.cacheMaxEntries] : [this.negatives, this.options.negativeCacheMaxEntries];
    while (map.size >= max) {
      // Maps iterate in insertion order: the first entry is the oldest.
      this.remove(map.keys().next().value!);
    }
    const now = this.now();
    map.set(hash, { credential, storedAt: now, expiresAt: now + ttl, keyId: owner?.keyId, orgId: owner?.orgId });
    if (owner) {
      this.hashByKey.set(owner.keyId, hash);
      let hashes = this.hashesByOrg.get(owner.orgId);
      if (!hashes) this.hashesByOrg.set(owner.orgId, (hashes = new Set()));
      hashes.add(hash);
    }
    return true;
  }

  invalidateKey(keyId: string): void {
    this.generation++;
    const hash = this.hashByKey.get(keyId);
    if (hash) this.remove(hash);
  }

  invalidateOrg(orgId: string): void {
    this.generation++;
    for (const hash of [...(this.hashesByOrg.get(orgId) ?? [])]) this.remove(hash);
  }

  /** Drops everything: used when invalidation messages may have been missed (Redis reconnect). */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.negatives.clear();
    this.hashByKey.clear();
    this.hashesByOrg.clear();
  }

  private remove(hash: string): void {
    const entry = this.entries.get(hash) ?? this.negatives.get(hash);
    if (!entry) return;
    this.entries.delete(hash);
    this.negatives.delete(hash);
    if (entry.keyId && this.hashByKey.get(entry.keyId) === hash) this.hashByKey.delete(entry.keyId);
    if (entry.orgId) {
      const hashes = this.hashesByOrg.get(entry.orgId);
      hashes?.delete(hash);
      if (hashes && !hashes.size) this.hashesByOrg.delete(entry.orgId);
    }
  }
}
