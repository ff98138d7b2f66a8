import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker } from './pod-health.js';

const settings = { failuresToEject: 3, probeFailuresToEject: 2, ejectBaseMs: 1_000, ejectMaxMs: 8_000 };

describe('CircuitBreaker (per-pod outlier ejection)', () => {
  it('ejects at once on a refused connection, and after N server failures in a row', () => {
    const refused = new CircuitBreaker(settings);
    assert.equal(refused.recordFailure('connect', 0), true);
    assert.equal(refused.state(0), 'open');

    const flaky = new CircuitBreaker(settings);
    flaky.recordFailure('server', 0);
    flaky.recordFailure('server', 0);
    flaky.recordSuccess(0); // a success in between resets the count
    flaky.recordFailure('server', 0);
    flaky.recordFailure('server', 0);
    assert.equal(flaky.state(0), 'closed');
    assert.equal(flaky.recordFailure('server', 0), true);
    assert.equal(flaky.allowsTraffic(1), false);
  });

  it('turns half-open after the ejection time; a successful trial closes it', () => {
    const b = new CircuitBreaker(settings);
    b.recordFailure('connect', 0);
    assert.equal(b.state(999), 'open');
    assert.equal(b.msUntilTrial(400), 600);
    assert.equal(b.state(1_000), 'half-open');
    assert.equal(b.allowsTraffic(1_000), true);
    b.recordSuccess(1_050);
    assert.equal(b.state(1_050), 'closed');
  });

  it('a failed trial ejects again for twice as long, capped', () => {
    const b = new CircuitBreaker(settings);
    let now = 0;
    const durations: number[] = [];
    for (let i = 0; i < 6; i++) {
      b.recordFailure('server', now) || b.recordFailure('server', now) || b.recordFailure('server', now);
      durations.push(b.openUntil - now);
      now = b.openUntil;
      assert.equal(b.state(now), 'half-open');
    }
    assert.deepEqual(durations, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('active probes: two failed in a row eject, a refused one at once, an ok one resets the count', () => {
    const b = new CircuitBreaker(settings);
    assert.equal(b.recordProbe('failed', 0), false);
    b.recordProbe('ok', 0);
    assert.equal(b.recordProbe('failed', 0), false);
    assert.equal(b.recordProbe('failed', 0), true);
    const c = new CircuitBreaker(settings);
    assert.equal(c.recordProbe('refused', 0), true);
    // A failed probe while half-open re-ejects.
    const d = new CircuitBreaker(settings);
    d.recordFailure('connect', 0);
    assert.equal(d.recordProbe('failed', 1_000), true);
    assert.equal(d.state(1_000), 'open');
  });

  it('forgets old ejections after staying healthy', () => {
    const b = new CircuitBreaker(settings);
    b.recordFailure('connect', 0);
    b.recordSuccess(1_000); // trial succeeds: closed
    b.recordSuccess(10_000); // healthy for longer than ejectMaxMs
    b.recordFailure('connect', 10_000);
    assert.equal(b.openUntil - 10_000, 1_000);
  });
});
