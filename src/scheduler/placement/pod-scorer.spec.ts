import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pool as UndiciPool } from 'undici';
import { Pod } from '../../fleet/pod.js';
import { createRoutingPolicy, loadScore, type Candidate } from './pod-scorer.js';

function pods(n: number): Pod[] {
  return Array.from({ length: n }, (_, i) => {
    const pod = new Pod(`p${i}`, 'pool', `http://p${i}`, {} as UndiciPool);
    pod.state = 'ready';
    return pod;
  });
}

function candidates(list: Pod[], uncached: number[] = [], promptTokens = 1000): Candidate[] {
  return list.map((pod, index) => ({
    pod,
    index,
    matchedTokens: promptTokens - (uncached[index] ?? promptTokens),
    uncachedTokens: uncached[index] ?? promptTokens,
    budgetTokens: uncached[index] ?? promptTokens,
    load: loadScore(pod, 0, 3_000),
    inFlight: pod.inFlight,
  }));
}

const ctx = (list: Pod[]) => ({ podCount: list.length, totalInFlight: list.reduce((n, p) => n + p.inFlight, 0) });

describe('routing policies', () => {
  it('round-robin cycles through the pods, skipping those without headroom', () => {
    const list = pods(3);
    const rr = createRoutingPolicy('round-robin', 1.5);
    const picks = Array.from({ length: 6 }, () => rr.choose(candidates(list), ctx(list))!.pod.id);
    assert.deepEqual(picks, ['p0', 'p1', 'p2', 'p0', 'p1', 'p2']);
    const withoutP1 = candidates(list).filter((c) => c.pod.id !== 'p1');
    assert.deepEqual([rr.choose(withoutP1, ctx(list))!.pod.id, rr.choose(withoutP1, ctx(list))!.pod.id], ['p0', 'p2']);
  });

  it('least-load prefers the pod with the least prefill queued and fewest decodes, spreading ties', () => {
    const list = pods(3);
    list[0].inFlight = 2;
    list[0].prefilling = 1;
    list[0].prefillTokens = 3000;
    list[1].inFlight = 4; // four decoding: 4 × 32 = 128 token-equivalents
    const ll = createRoutingPolicy('least-load', 1.5);
    assert.equal(ll.choose(candidates(list), ctx(list))!.pod.id, 'p2');
    const idle = pods(3);
    const spread = new Set(Array.from({ length: 3 }, () => ll.choose(candidates(idle), ctx(idle))!.pod.id));
    assert.equal(spread.size, 3);
  });

  it('prefix-load sends a request to the pod holding its prefix, unless that pod is busier than the prefill saved', () => {
    const list = pods(3);
    const pl = createRoutingPolicy('prefix-load', 1.5);
    // p1 holds 900 of 1000 prompt tokens.
    assert.equal(pl.choose(candidates(list, [1000, 100, 1000]), ctx(list))!.pod.id, 'p1');
    // p1 has 2000 prefill tokens queued: computing 1000 elsewhere is faster than waiting there.
    list[1].inFlight = 1;
    list[1].prefilling = 1;
    list[1].prefillTokens = 2000;
    assert.notEqual(pl.choose(candidates(list, [1000, 100, 1000]), ctx(list))!.pod.id, 'p1');
  });

  it('prefix-load bounds the load: a hot prefix cannot pile every request onto one pod', () => {
    const list = pods(4);
    const pl = createRoutingPolicy('prefix-load', 1.5);
    const counts = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      // p0 holds the whole prompt of every request; others would compute 200 tokens.
      const chosen = pl.choose(candidates(list, [1, 200, 200, 200]), ctx(list))!;
      chosen.pod.inFlight++; // the requests keep running (decoding)
      counts.set(chosen.pod.id, (counts.get(chosen.pod.id) ?? 0) + 1);
    }
    const total = 40;
    assert.ok(counts.get('p0')! <= Math.ceil((1.5 * total) / 4) + 1, JSON.stringify([...counts]));
    assert.ok(counts.get('p0')! > total / 4, 'the prefix pod still gets more than its even share');
  });

  it('counts runtime pressure (waiting beyond ours, KV usage) in the load score', () => {
    const [quiet, pressed] = pods(2);
    pressed.recordScrape({ at: 0, running: 10, waiting: 3, kvUsage: 0.95, prefixQueries: 0, prefixHits: 0, preemptions: 0 });
    quiet.recordScrape({ at: 0, running: 0, waiting: 0, kvUsage: 0.1, prefixQueries: 0, prefixHits: 0, preemptions: 0 });
    assert.ok(loadScore(pressed, 0, 3_000) > loadScore(quiet, 0, 3_000) + 3 * 512);
    // A stale scrape is ignored.
    assert.equal(loadScore(pressed, 10_000, 3_000), 0);
  });
});
