import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pool as UndiciPool } from 'undici';
import { Pod } from '../../fleet/pod.js';
import { PrefixAffinity } from './prefix-affinity.js';

const pod = (id: string) => new Pod(id, 'p', `http://${id}`, {} as UndiciPool);

describe('PrefixAffinity (where each prefix was sent)', () => {
  it('finds the pod holding the longest leading run of blocks', () => {
    const table = new PrefixAffinity(1000);
    const [a, b] = [pod('a'), pod('b')];
    table.record([1, 2, 3, 4], a);
    table.record([1, 2, 9], b);
    const byPod = new Map(table.match([1, 2, 3, 4, 5]).map((m) => [m.pod, m.blocks]));
    assert.equal(byPod.get(a), 4);
    assert.equal(byPod.get(b), 2);
    assert.deepEqual(table.match([7, 1, 2]), []);
  });

  it('does not credit a pod with later blocks when it lacks an earlier one', () => {
    const table = new PrefixAffinity(1000);
    const [a, b] = [pod('a'), pod('b')];
    table.record([1, 2, 3], a);
    table.record([1], b);
    table.record([3], b); // b holds block 3's hash but not block 2
    const byPod = new Map(table.match([1, 2, 3]).map((m) => [m.pod, m.blocks]));
    assert.equal(byPod.get(b), 1);
    assert.equal(byPod.get(a), 3);
  });

  it('is bounded, evicting the least recently used prefix (tail blocks before head blocks)', () => {
    const table = new PrefixAffinity(1000);
    const a = pod('a');
    table.record([1, 2, 3], a); // conversation X
    for (let i = 0; i < 997; i++) table.record([10_000 + i], a);
    assert.equal(table.size, 1000);
    table.record([5_000, 5_001], a); // evicts X's oldest entries: its tail (3), then 2
    assert.equal(table.size, 1000);
    assert.equal(table.match([1, 2, 3])[0]?.blocks, 1);
  });

  it('remembers at most a few pods per block, most recent first, and forgets removed pods', () => {
    const table = new PrefixAffinity(1000);
    const pods = ['a', 'b', 'c', 'd', 'e'].map(pod);
    for (const p of pods) table.record([42], p);
    const matched = table.match([42]).map((m) => m.pod.id);
    assert.deepEqual(matched, ['e', 'd', 'c', 'b']);
    table.forget(pods[4]);
    assert.deepEqual(table.match([42]).map((m) => m.pod.id), ['d', 'c', 'b']);
  });
});
