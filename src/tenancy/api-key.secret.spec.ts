import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { ApiKeyHasher } from './api-key.hasher.js';
import { API_KEY_FORMAT } from '../config/index.js';
import { displayPrefix, generateApiKey } from './api-key.secret.js';
import { effectiveAllowList } from './principal.js';

describe('API key secrets', () => {
  it('generates sk-sy- keys of 43 base62 characters that the gateway accepts', () => {
    const keys = new Set(Array.from({ length: 200 }, generateApiKey));
    assert.equal(keys.size, 200);
    for (const key of keys) {
      assert.match(key, /^sk-sy-[A-Za-z0-9]{43}$/);
      assert.ok(API_KEY_FORMAT.test(key));
    }
  });

  it('shows only sk-sy- and the next 8 characters as the display prefix', () => {
    assert.equal(displayPrefix('sk-sy-ABCDEFGHijklmnopqrstuvwxyz0123456789abcdefg'), 'sk-sy-ABCDEFGH');
  });

  it('stores keys as HMAC-SHA256 under the pepper, so the same key hashes differently under another pepper', () => {
    const key = generateApiKey();
    const a = new ApiKeyHasher({ keyPepper: 'a'.repeat(32) });
    const b = new ApiKeyHasher({ keyPepper: 'b'.repeat(32) });
    assert.equal(a.hash(key), createHmac('sha256', 'a'.repeat(32)).update(key).digest('hex'));
    assert.notEqual(a.hash(key), b.hash(key));
    assert.ok(!a.hash(key).includes(key.slice(6, 14)));
  });
});

describe('model allow-lists', () => {
  it('intersects the organization list with the key list; empty means no restriction at that level', () => {
    assert.equal(effectiveAllowList([], []), null);
    assert.deepEqual([...effectiveAllowList(['a', 'b'], [])!], ['a', 'b']);
    assert.deepEqual([...effectiveAllowList([], ['b'])!], ['b']);
    assert.deepEqual([...effectiveAllowList(['a', 'b'], ['b', 'c'])!], ['b']);
    // Disjoint lists allow nothing (not everything).
    assert.equal(effectiveAllowList(['a'], ['c'])!.size, 0);
  });
});
