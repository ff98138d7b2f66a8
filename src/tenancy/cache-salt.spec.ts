import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { organizationCacheSalt } from './cache-salt.js';

const pepper = 'a-test-pepper-of-at-least-thirty-two-chars';

describe('organizationCacheSalt', () => {
  it('is stable per organization, 256 bits in base64url, and reveals nothing of the id', () => {
    const salt = organizationCacheSalt(pepper, 'org_abc');
    assert.equal(salt, organizationCacheSalt(pepper, 'org_abc'));
    assert.match(salt, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!salt.includes('org_abc'));
  });

  it('differs between organizations, between client salts, and under another pepper', () => {
    const salts = [
      organizationCacheSalt(pepper, 'org_a'),
      organizationCacheSalt(pepper, 'org_b'),
      organizationCacheSalt(pepper, 'org_a', 'user-1'),
      organizationCacheSalt(pepper, 'org_b', 'user-1'),
      organizationCacheSalt(pepper, 'org_a', 'user-2'),
      organizationCacheSalt(`${pepper}-rotated`, 'org_a'),
    ];
    assert.equal(new Set(salts).size, salts.length);
  });

  it('cannot be steered across organizations by choosing the client salt', () => {
    // A separator keeps the org id and the client salt apart: org_a with salt "x" is not org_ax.
    assert.notEqual(organizationCacheSalt(pepper, 'org_a', 'x'), organizationCacheSalt(pepper, 'org_ax'));
  });
});
