import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blocksToTokens, prefixKey } from './prefix-hash.js';

const settings = { blockChars: 64, maxBlocks: 1000 };
const system = 'You are a meticulous assistant for the rail yard. '.repeat(20);

function chat(...messages: Array<[string, string]>) {
  return { model: 'm', messages: messages.map(([role, content]) => ({ role, content })) };
}

describe('prefixKey (block hashes of the prompt prefix)', () => {
  it('keeps prompts salted differently (other organizations) apart in every block, and equal salts together', () => {
    const body = chat(['system', system], ['user', 'the same question']);
    const plain = prefixKey('chat.completions', body, settings);
    const orgA = prefixKey('chat.completions', body, settings, 'salt-of-org-a');
    const orgA2 = prefixKey('chat.completions', body, settings, 'salt-of-org-a');
    const orgB = prefixKey('chat.completions', body, settings, 'salt-of-org-b');
    assert.deepEqual(orgA.hashes, orgA2.hashes);
    assert.equal(orgA.hashes.length, plain.hashes.length);
    assert.equal(orgA.totalChars, plain.totalChars);
    for (let i = 0; i < orgA.hashes.length; i++) {
      assert.notEqual(orgA.hashes[i], orgB.hashes[i], `block ${i}`);
      assert.notEqual(orgA.hashes[i], plain.hashes[i], `block ${i}`);
    }
  });

  it('gives requests that share a system prompt the same leading hashes, and differ after', () => {
    const a = prefixKey('chat.completions', chat(['system', system], ['user', 'first question about wagons']), settings);
    const b = prefixKey('chat.completions', chat(['system', system], ['user', 'another question about signals']), settings);
    const shared = Math.floor(system.length / 64);
    assert.deepEqual(a.hashes.slice(0, shared), b.hashes.slice(0, shared));
    const firstDiff = a.hashes.findIndex((h, i) => h !== b.hashes[i]);
    assert.ok(firstDiff >= shared && firstDiff <= shared + 1, `first differing block ${firstDiff}, shared ${shared}`);
  });

  it('makes a later turn of a conversation extend the earlier turn\'s hashes', () => {
    const turn1 = chat(['system', system], ['user', 'Tell me about couplers. '.repeat(10)]);
    const turn2 = chat(['system', system], ['user', 'Tell me about couplers. '.repeat(10)], ['assistant', 'They join wagons. '.repeat(8)], ['user', 'And buffers?']);
    const k1 = prefixKey('chat.completions', turn1, settings);
    const k2 = prefixKey('chat.completions', turn2, settings);
    assert.ok(k2.hashes.length > k1.hashes.length);
    assert.deepEqual(k2.hashes.slice(0, k1.hashes.length), k1.hashes);
  });

  it('tells roles apart (the same text as system or user is a different prompt)', () => {
    const a = prefixKey('chat.completions', chat(['system', system]), settings);
    const b = prefixKey('chat.completions', chat(['user', system]), settings);
    assert.notEqual(a.hashes[0], b.hashes[0]);
  });

  it('puts tools first, as templates render them', () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string', description: 'x'.repeat(100) } } } } }];
    const a = prefixKey('chat.completions', { ...chat(['user', 'hi']), tools }, settings);
    const b = prefixKey('chat.completions', { ...chat(['user', 'hello there']), tools }, settings);
    assert.equal(a.hashes[0], b.hashes[0]);
  });

  it('hashes completions prompts, token-id prompts and content parts', () => {
    const p = prefixKey('completions', { prompt: 'x'.repeat(200) }, settings);
    assert.equal(p.hashes.length, 3);
    assert.equal(prefixKey('completions', { prompt: ['y'.repeat(130), 'z'] }, settings).hashes.length, 2);
    assert.equal(prefixKey('completions', { prompt: Array.from({ length: 100 }, (_, i) => i) }, settings).hashes.length, 4);
    const parts = prefixKey('chat.completions', { messages: [{ role: 'user', content: [{ type: 'text', text: system }] }] }, settings);
    assert.deepEqual(parts.hashes.slice(0, 3), prefixKey('chat.completions', chat(['user', system]), settings).hashes.slice(0, 3));
  });

  it('bounds the work: at most maxBlocks hashes, while the length counts the whole prompt', () => {
    const key = prefixKey('completions', { prompt: 'q'.repeat(100_000) }, { blockChars: 256, maxBlocks: 8 });
    assert.equal(key.hashes.length, 8);
    assert.equal(key.totalChars, 100_000);
  });

  it('turns matched blocks into prompt tokens by the characters-per-token ratio', () => {
    const key = prefixKey('completions', { prompt: 'w'.repeat(1000) }, { blockChars: 100, maxBlocks: 100 });
    assert.equal(blocksToTokens(key, 0, 250), 0);
    assert.equal(blocksToTokens(key, 4, 250), 100);
    assert.equal(blocksToTokens(key, 10, 250), 250);
  });

  it('produces safe integers', () => {
    const key = prefixKey('completions', { prompt: 'safe integers only '.repeat(100) }, settings);
    for (const h of key.hashes) assert.ok(Number.isSafeInteger(h) && h >= 0);
  });
});
