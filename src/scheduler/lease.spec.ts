import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pool as UndiciPool } from 'undici';
import { ManualClock } from '../clock/manual-clock.js';
import { Pod } from '../fleet/pod.js';
import { Lease, type LeaseGrant, type LeaseOwner } from './lease.js';
import { EMPTY_PREFIX } from './placement/prefix-hash.js';
import type { Ticket } from './ticket.js';

/** Records what a lease reports to its scheduler. */
class FakeOwner implements LeaseOwner {
  readonly calls: string[] = [];
  readmitted?: { exclude: ReadonlySet<Pod>; attempt: number };

  pump(): void {
    this.calls.push('pump');
  }
  observeTtft(ms: number, uncachedTokens: number): void {
    this.calls.push(`ttft ${ms} ms / ${uncachedTokens}`);
  }
  observeCacheHit(matchedTokens: number, cachedTokens: number): void {
    this.calls.push(`hit ${cachedTokens} of ${matchedTokens}`);
  }
  readmit(_ticket: Ticket, exclude: ReadonlySet<Pod>, attempt: number): Promise<Lease> {
    this.readmitted = { exclude, attempt };
    return Promise.reject(new Error('not in this test'));
  }
}

function setup(prefillEnd: Ticket['prefillEnd'], over: Partial<LeaseGrant> = {}) {
  const clock = new ManualClock();
  const owner = new FakeOwner();
  const pod = new Pod('p0', 'pool', 'http://p0', {} as UndiciPool);
  const ticket: Ticket = { id: 'r', flow: 'org', weight: 1, cost: 1, cls: 'interactive', promptTokens: 900, prefix: EMPTY_PREFIX, prefillEnd };
  const grant = (): Lease => new Lease(owner, clock, { pod, ticket, uncachedTokens: 700, matchedTokens: 200, attempt: 0, tried: new Set(), waitedMs: 0, ...over });
  return { clock, owner, pod, grant };
}

describe('Lease', () => {
  it("takes a slot and the uncached prompt in the pod's prefill budget, and gives them back", () => {
    const { pod, grant } = setup('first-byte');
    const lease = grant();
    assert.deepEqual([pod.inFlight, pod.prefilling, pod.prefillTokens, pod.prefillsSince.size], [1, 1, 700, 1]);
    lease.firstToken();
    assert.deepEqual([pod.inFlight, pod.prefilling, pod.prefillTokens, pod.prefillsSince.size], [1, 0, 0, 0]);
    lease.release();
    lease.release();
    assert.equal(pod.inFlight, 0, 'release is idempotent');
  });

  it("teaches the pool a stream's time to first token, measured on the clock from the grant", () => {
    const { clock, owner, grant } = setup('first-byte');
    const lease = grant();
    clock.advance(120);
    lease.firstToken();
    lease.firstToken();
    assert.deepEqual(owner.calls, ['ttft 120 ms / 700', 'pump'], 'once, then capacity may have appeared');
  });

  it('learns nothing about time to first token from a request cut before it, nor from an embedding', () => {
    const cut = setup('first-byte');
    cut.grant().release();
    assert.deepEqual(cut.owner.calls, ['pump']);
    assert.deepEqual([cut.pod.inFlight, cut.pod.prefilling, cut.pod.prefillTokens, cut.pod.prefillsSince.size], [0, 0, 0, 0]);
    const embedding = setup('completion');
    const lease = embedding.grant();
    assert.equal(embedding.pod.prefillsSince.size, 1, "an embedding's prefill end is observed (its response)");
    embedding.clock.advance(50);
    lease.firstToken();
    assert.deepEqual(embedding.owner.calls, ['pump']);
  });

  it("reports the runtime's prefix-cache hit against the table's match when the request ends with usage", () => {
    const { owner, grant } = setup('first-byte');
    grant().release(150);
    assert.deepEqual(owner.calls, ['hit 150 of 200', 'pump']);
  });

  it("ends a non-streamed generation's prefill at the estimate, outside the pod's observed prefills", () => {
    const { clock, owner, pod, grant } = setup('estimate');
    const lease = grant();
    assert.equal(pod.prefillsSince.size, 0, 'an estimated end must not make the pod look stalled');
    lease.estimatePrefill(40);
    clock.advance(39);
    assert.equal(pod.prefilling, 1);
    clock.advance(1);
    assert.deepEqual([pod.prefilling, pod.prefillTokens], [0, 0]);
    assert.deepEqual(owner.calls, ['pump'], 'no time to first token learnt from our own estimate');
    lease.release();
    assert.equal(pod.inFlight, 0);
  });

  it('retries on another pod: frees this one first and excludes every pod tried', async () => {
    const earlier = new Pod('p9', 'pool', 'http://p9', {} as UndiciPool);
    const { owner, pod, grant } = setup('first-byte', { attempt: 1, tried: new Set([earlier]) });
    await assert.rejects(grant().retry());
    assert.equal(pod.inFlight, 0);
    assert.equal(owner.readmitted?.attempt, 2);
    assert.deepEqual([...owner.readmitted!.exclude], [earlier, pod]);
  });
});
