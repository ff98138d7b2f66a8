import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock/manual-clock.js';
import { PoolEstimates } from './estimates.js';
import { EMPTY_PREFIX } from './placement/prefix-hash.js';

describe('PoolEstimates', () => {
  it("assumes a non-streamed prefill takes the streams' recent time to first token per prompt token, within 5 ms – 10 s", () => {
    const e = new PoolEstimates(new ManualClock());
    assert.equal(e.prefillMs(744), 50, 'prior: 0.05 ms per token, 256 tokens fixed');
    assert.equal(e.prefillMs(0), 12.8);
    for (let i = 0; i < 100; i++) e.observeTtft(2_000, 744); // 2 ms per token-equivalent
    assert.ok(Math.abs(e.prefillMs(744) - 2_000) < 1, `learnt: ${e.prefillMs(744)}`);
    assert.equal(e.prefillMs(1_000_000), 10_000);
    for (let i = 0; i < 200; i++) e.observeTtft(0, 744);
    assert.equal(e.prefillMs(10), 5);
  });

  it('sets retry-after to the time the queue ahead takes to drain at the recent admission rate, 1–60 s', () => {
    const clock = new ManualClock();
    const e = new PoolEstimates(clock);
    assert.equal(e.retryAfterSeconds(5), 60, 'nothing admitted yet: the longest');
    for (let i = 0; i < 200; i++) {
      clock.advance(100);
      e.observeAdmission(); // 10 per second, for 20 s
    }
    const drain = e.retryAfterSeconds(49);
    assert.ok(drain >= 5 && drain <= 6, `50 requests at ~10/s: ${drain}`);
    assert.equal(e.retryAfterSeconds(0), 1);
    assert.equal(e.retryAfterSeconds(10_000), 60);
    clock.advance(10_000); // admissions stopped: the rate decays (time constant 5 s)
    assert.ok(e.retryAfterSeconds(49) > 5 * drain, `after 10 s without admissions: ${e.retryAfterSeconds(49)}`);
  });

  it('learns the share of table matches the runtimes confirm, capped at the claim, ignoring requests with none', () => {
    const e = new PoolEstimates(new ManualClock());
    assert.equal(e.hitRatio, 1, 'prior: believe the table');
    e.observeCacheHit(0, 500);
    assert.equal(e.hitRatio, 1, 'no match claimed: nothing to learn');
    for (let i = 0; i < 100; i++) e.observeCacheHit(4_000, 0);
    assert.ok(e.hitRatio < 0.05, `evicted every time: ${e.hitRatio}`);
    for (let i = 0; i < 100; i++) e.observeCacheHit(4_000, 9_000);
    assert.ok(e.hitRatio > 0.75 && e.hitRatio <= 1, `hits again, over-reports capped at the claim: ${e.hitRatio}`);
  });

  it("follows the prompts' characters per token, slowly", () => {
    const e = new PoolEstimates(new ManualClock());
    assert.equal(e.charsPerToken, 4);
    e.observePrompt(EMPTY_PREFIX, 100);
    assert.equal(e.charsPerToken, 4, 'an empty prompt says nothing');
    const prefix = { hashes: [], blockChars: 64, totalChars: 3_000 };
    e.observePrompt(prefix, 1_000);
    assert.ok(Math.abs(e.charsPerToken - 3.99) < 1e-9, `one prompt moves it 1 %: ${e.charsPerToken}`);
    for (let i = 0; i < 1_000; i++) e.observePrompt(prefix, 1_000);
    assert.ok(Math.abs(e.charsPerToken - 3) < 0.01);
  });
});
