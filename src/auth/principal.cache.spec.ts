import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../tenancy/principal.js';
import { type Credential, DEGRADED_MAX_AGE_MS, PrincipalCache } from './principal.cache.js';

function principal(keyId: string, orgId: string): Principal {
  return { orgId, keyId, keyPrefix: 'sk-sy-abcdefgh', tier: 'standard', scopes: new Set(['inference']), allowedModels: null };
}
const valid = (keyId: string, orgId: string): Credential => ({ status: 'valid', principal: principal(keyId, orgId), orgActive: true, keyExpiresAt: null });

function setup(options = { cacheTtlMs: 30_000, negativeCacheTtlMs: 2_000, cacheMaxEntries: 100, negativeCacheMaxEntries: 100 }) {
  let now = 1_000_000;
  const cache = new PrincipalCache(options, () => now);
  return { cache, advance: (ms: number) => (now += ms) };
}

describe('PrincipalCache', () => {
  it('serves a stored principal until its TTL, then forgets it', () => {
    const { cache, advance } = setup();
    assert.equal(cache.set('h1', valid('k1', 'o1'), { keyId: 'k1', orgId: 'o1' }, cache.epoch), true);
    advance(29_999);
    assert.equal(cache.get('h1')?.status, 'valid');
    advance(1);
    assert.equal(cache.get('h1'), undefined);
  });

  it('keeps unknown and revoked keys only for the negative TTL', () => {
    const { cache, advance } = setup();
    cache.set('unknown', { status: 'unknown' }, null, cache.epoch);
    cache.set('revoked', { status: 'revoked' }, { keyId: 'k', orgId: 'o' }, cache.epoch);
    advance(1_999);
    assert.equal(cache.get('unknown')?.status, 'unknown');
    assert.equal(cache.get('revoked')?.status, 'revoked');
    advance(1);
    assert.equal(cache.get('unknown'), undefined);
    assert.equal(cache.get('revoked'), undefined);
  });

  it("drops a key's entry when that key is invalidated, and only that entry", () => {
    const { cache } = setup();
    cache.set('h1', valid('k1', 'o1'), { keyId: 'k1', orgId: 'o1' }, cache.epoch);
    cache.set('h2', valid('k2', 'o1'), { keyId: 'k2', orgId: 'o1' }, cache.epoch);
    cache.invalidateKey('k1');
    assert.equal(cache.get('h1'), undefined);
    assert.equal(cache.get('h2')?.status, 'valid');
  });

  it('drops every entry of an organization when the organization is invalidated', () => {
    const { cache } = setup();
    cache.set('h1', valid('k1', 'o1'), { keyId: 'k1', orgId: 'o1' }, cache.epoch);
    cache.set('h2', valid('k2', 'o1'), { keyId: 'k2', orgId: 'o1' }, cache.epoch);
    cache.set('h3', valid('k3', 'o2'), { keyId: 'k3', orgId: 'o2' }, cache.epoch);
    cache.invalidateOrg('o1');
    assert.equal(cache.get('h1'), undefined);
    assert.equal(cache.get('h2'), undefined);
    assert.equal(cache.get('h3')?.status, 'valid');
  });

  it('refuses to store a lookup that began before an invalidation (it may predate the change)', () => {
    const { cache } = setup();
    const epoch = cache.epoch;
    cache.invalidateKey('k1'); // arrives while the lookup is in flight
    assert.equal(cache.set('h1', valid('k1', 'o1'), { keyId: 'k1', orgId: 'o1' }, epoch), false);
    assert.equal(cache.get('h1'), undefined);
  });

  it('evicts the oldest entry when full', () => {
    const { cache } = setup({ cacheTtlMs: 30_000, negativeCacheTtlMs: 2_000, cacheMaxEntries: 2, negativeCacheMaxEntries: 2 });
    cache.set('h1', valid('k1', 'o1'), { keyId: 'k1', orgId: 'o1' }, cache.epoch);
    cache.set('h2', valid('k2', 'o1'), { keyId: 'k2', orgId: 'o1' }, cache.epoch);
    cache.set('h3', valid('k3', 'o1'), { keyId: 'k3', orgId: 'o1' }, cache.epoch);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('h1'), undefined);
    assert.equal(cache.get('h3')?.status, 'valid');
  });

  it('never evicts a valid key for unknown ones: a flood of random keys recycles only the negative entries', () => {
    const { cache } = setup({ cacheTtlMs: 30_000, negativeCacheTtlMs: 2_000, cacheMaxEntries: 10, negativeCacheMaxEntries: 50 });
    for (let i = 0; i < 10; i++) cache.set(`good${i}`, valid(`k${i}`, 'o1'), { keyId: `k${i}`, orgId: 'o1' }, cache.epoch);
    for (let i = 0; i < 10_000; i++) cache.set(`random${i}`, { status: 'unknown' }, null, cache.epoch);
    for (let i = 0; i < 10; i++) assert.equal(cache.get(`good${i}`)?.status, 'valid', `good${i} was evicted`);
    assert.equal(cache.negativeSize, 50, 'the negative entries stay within their own bound');
    assert.equal(cache.get('random9999')?.status, 'unknown');
    assert.equal(cache.get('random0'), undefined);
    // A revoked key's entry is a negative one, and is still dropped by its key's invalidation.
    cache.set('revoked', { status: 'revoked' }, { keyId: 'kr', orgId: 'o1' }, cache.epoch);
    cache.invalidateKey('kr');
    assert.equal(cache.get('revoked'), undefined);
  });

  it('trusts an entry for at most a second while invalidations cannot arrive', () => {
    const { cache, advance } = setup();
    cache.set('h1', valid('k1', 'o1'), { keyId: 'k1', orgId: 'o1' }, cache.epoch);
    cache.degraded = true;
    advance(DEGRADED_MAX_AGE_MS - 1);
    assert.equal(cache.get('h1')?.status, 'valid');
    advance(1);
    assert.equal(cache.get('h1'), undefined);
  });

  it('stores nothing when the TTL is zero', () => {
    const { cache } = setup({ cacheTtlMs: 0, negativeCacheTtlMs: 0, cacheMaxEntries: 10, negativeCacheMaxEntries: 10 });
    assert.equal(cache.set('h1', valid('k1', 'o1'), { keyId: 'k1', orgId: 'o1' }, cache.epoch), false);
    assert.equal(cache.get('h1'), undefined);
  });
});
