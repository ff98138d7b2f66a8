import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock/manual-clock.js';
import { decideScale, initialScalingState, type PoolSignals, type ScalingDecision, type ScalingPolicy } from './scaling-policy.js';

const INTERVAL = 5_000;

function policy(over: Partial<ScalingPolicy> = {}): ScalingPolicy {
  return {
    minReplicas: 1,
    maxReplicas: 6,
    targetInFlightPerPod: 16,
    ttftP90ObjectiveMs: 2_000,
    kvUsageHigh: 0.9,
    podStartupMs: 20_000,
    batchMaxReplicas: 6,
    idleToZeroMs: null,
    tolerance: 0.1,
    trendWindowMs: 30_000,
    cooldownMs: 120_000,
    scaleUp: { stabilizationMs: 0, maxStepPods: 4, periodMs: 15_000 },
    scaleDown: { stabilizationMs: 300_000, maxStepPods: 1, periodMs: 60_000 },
    ...over,
  };
}

const idle: Omit<PoolSignals, 'currentReplicas' | 'readyReplicas'> = {
  waitingInteractive: 0,
  waitingFlex: 0,
  waitingBatch: 0,
  inFlight: 0,
  inFlightBatch: 0,
  runtimeRunning: null,
  runtimeWaiting: null,
  kvUsage: null,
  ttftP90Ms: null,
  quotaRefused: 0,
};

/**
 * A pool driven by the decision function on virtual time: every INTERVAL the loop decides, and the
 * workload takes the new count (pods Ready at once: what is tested is the decision, not the pods).
 */
class Loop {
  readonly clock = new ManualClock();
  state = initialScalingState();
  readonly log: Array<{ at: number; from: number; to: number; reason: string }> = [];
  last!: ScalingDecision;
  paused = false;

  constructor(
    readonly policy: ScalingPolicy,
    public replicas: number,
  ) {}

  /** Runs the loop for `ms` of virtual time under the signals `signals(t)` (t = ms since the start). */
  run(ms: number, signals: (t: number) => Partial<PoolSignals>): this {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.advance(INTERVAL);
      this.tick(signals(this.clock.now()));
    }
    return this;
  }

  tick(over: Partial<PoolSignals>): ScalingDecision {
    const now = this.clock.now();
    this.last = decideScale(this.policy, this.state, { ...idle, currentReplicas: this.replicas, readyReplicas: this.replicas, ...over }, now, INTERVAL, this.paused);
    this.state = this.last.state;
    if (this.last.desired !== this.replicas) this.log.push({ at: now, from: this.replicas, to: this.last.desired, reason: this.last.reason });
    this.replicas = this.last.desired;
    return this.last;
  }
}

describe('decideScale', () => {
  it('scales up fast: a step of demand gets its pods in one decision, up to the step limit per period', () => {
    const loop = new Loop(policy(), 1);
    loop.tick({ inFlight: 16, waitingInteractive: 48 }); // 64 requests = 4 pods
    assert.deepEqual(loop.log, [{ at: 0, from: 1, to: 4, reason: 'demand' }]);

    const big = new Loop(policy({ maxReplicas: 12 }), 1);
    big.run(60_000, () => ({ inFlight: 16, waitingInteractive: 160 })); // 11 pods wanted
    assert.deepEqual(
      big.log.map((e) => [e.at, e.to]),
      [
        [5_000, 5], // +4, the step limit
        [20_000, 9], // the next period
        [35_000, 11],
      ],
    );
  });

  it('never leaves min..max, and brings a count set outside it back at once', () => {
    const loop = new Loop(policy({ minReplicas: 2, maxReplicas: 3 }), 1);
    loop.tick({});
    assert.equal(loop.replicas, 2);
    assert.equal(loop.last.reason, 'below-min');
    loop.clock.advance(INTERVAL);
    loop.tick({ waitingInteractive: 1_000 });
    assert.equal(loop.replicas, 3, 'maxReplicas caps the demand');
    loop.replicas = 9; // an operator's kubectl scale
    loop.clock.advance(INTERVAL);
    loop.tick({ waitingInteractive: 1_000 });
    assert.deepEqual([loop.replicas, loop.last.reason], [3, 'above-max']);
  });

  it('scales down slowly: only after the stabilization window, then one pod per period', () => {
    const loop = new Loop(policy({ cooldownMs: 0 }), 1);
    loop.run(60_000, () => ({ inFlight: 64 }));
    assert.equal(loop.replicas, 4);
    loop.log.length = 0;
    loop.run(600_000, () => ({ inFlight: 10 })); // 1 pod's worth from t = 60 s
    assert.deepEqual(
      loop.log.map((e) => [e.at / 1000, e.to, e.reason]),
      [
        [360, 3, 'demand-fell'], // 300 s after the last recommendation of 4
        [420, 2, 'demand-fell'],
        [480, 1, 'demand-fell'],
      ],
    );
  });

  it('does not scale down within the cooldown after a scale-up', () => {
    const loop = new Loop(policy({ scaleDown: { stabilizationMs: 0, maxStepPods: 8, periodMs: 0 }, cooldownMs: 120_000 }), 1);
    loop.tick({ inFlight: 64 });
    assert.equal(loop.replicas, 4);
    loop.run(115_000, () => ({ inFlight: 1 }));
    assert.equal(loop.replicas, 4);
    assert.equal(loop.last.reason, 'cooldown');
    loop.run(5_000, () => ({ inFlight: 1 }));
    assert.equal(loop.replicas, 1);
  });

  it('changes the count at most once per interval', () => {
    const loop = new Loop(policy({ scaleUp: { stabilizationMs: 0, maxStepPods: 1, periodMs: 0 } }), 1);
    loop.tick({ inFlight: 96 });
    assert.equal(loop.replicas, 2);
    loop.clock.advance(INTERVAL - 1);
    loop.tick({ inFlight: 96 });
    assert.deepEqual([loop.replicas, loop.last.reason], [2, 'interval']);
    loop.clock.advance(1);
    loop.tick({ inFlight: 96 });
    assert.equal(loop.replicas, 3);
  });

  it('does not flap under steady load that sits on a pod boundary', () => {
    // 30..38 requests: 2 pods' worth one tick, 3 the next (target 16, beyond the 10 % band), for half an hour.
    let seed = 7;
    const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 9) - 4;
    const loop = new Loop(policy(), 1);
    loop.run(1_800_000, () => ({ inFlight: 34 + noise() }));
    assert.ok(loop.log.length > 0 && loop.log.every((e) => e.at <= 60_000 && e.to > e.from), JSON.stringify(loop.log));
    assert.equal(loop.replicas, 3, 'up to the level the peaks need within a minute, then no change for 29 minutes');
  });

  it('ignores changes within the tolerance band', () => {
    const loop = new Loop(policy({ maxReplicas: 20, scaleDown: { stabilizationMs: 0, maxStepPods: 1, periodMs: 0 }, cooldownMs: 0 }), 10);
    loop.run(60_000, () => ({ inFlight: 168 })); // 10.5 pods' worth → 11, within 10 %
    assert.equal(loop.replicas, 10);
    loop.run(10_000, () => ({ inFlight: 200 })); // 13
    assert.equal(loop.replicas, 13);
  });

  it('lets batch demand scale the pool only up to the batch ceiling', () => {
    const loop = new Loop(policy({ batchMaxReplicas: 2 }), 1);
    loop.run(60_000, () => ({ waitingBatch: 5_000, inFlightBatch: 16 }));
    assert.equal(loop.replicas, 2);
    loop.run(10_000, () => ({ waitingBatch: 5_000, inFlightBatch: 16, inFlight: 48 })); // live demand: 3 pods
    assert.equal(loop.replicas, 3, 'live demand is counted in full; batch adds nothing past its ceiling');
    const higher = new Loop(policy({ batchMaxReplicas: 5 }), 1);
    higher.run(60_000, () => ({ waitingBatch: 5_000, inFlightBatch: 16, inFlight: 48 }));
    assert.equal(higher.replicas, 5, 'batch fills up to its ceiling above the live demand');
  });

  it('is not moved by demand that quota refused', () => {
    const loop = new Loop(policy(), 1);
    loop.run(120_000, () => ({ inFlight: 8, quotaRefused: 10_000 }));
    assert.deepEqual(loop.log, []);
  });

  it('scales ahead of the pod start-up time while demand rises', () => {
    // +1 request per second: 20 s of start-up means 20 more requests by the time a pod is Ready.
    const loop = new Loop(policy({ podStartupMs: 20_000, scaleUp: { stabilizationMs: 0, maxStepPods: 1, periodMs: 0 } }), 1);
    loop.run(30_000, (t) => ({ inFlight: t / 1000 }));
    // At t = 30 s the demand is 30 (2 pods); projected 50 (4 pods).
    assert.equal(loop.last.liveDemand, 30);
    assert.equal(loop.last.projectedDemand, 50);
    assert.ok(loop.replicas >= 3, `replicas ${loop.replicas}`);
    assert.ok(loop.log.some((e) => e.reason === 'look-ahead'));
  });

  it('adds a pod when TTFT misses the objective while requests wait, and not when nothing waits', () => {
    const loop = new Loop(policy(), 2);
    loop.tick({ inFlight: 20, ttftP90Ms: 3_500 });
    assert.equal(loop.replicas, 2, 'a slow TTFT with nothing waiting is the requests, not the capacity');
    loop.clock.advance(INTERVAL);
    loop.tick({ inFlight: 20, runtimeRunning: 20, runtimeWaiting: 4, ttftP90Ms: 3_500 });
    assert.deepEqual([loop.replicas, loop.last.reason], [3, 'latency-objective']);
    loop.clock.advance(INTERVAL);
    loop.tick({ inFlight: 20, kvUsage: 0.95 });
    assert.deepEqual([loop.replicas, loop.last.reason], [4, 'kv-pressure']);
  });

  it('starts a pod at once for a request waiting on a pool at zero', () => {
    const loop = new Loop(policy({ minReplicas: 0, idleToZeroMs: 600_000 }), 0);
    loop.run(60_000, () => ({}));
    assert.equal(loop.replicas, 0, 'an idle pool at zero stays there');
    loop.clock.advance(1);
    loop.tick({ waitingInteractive: 1 });
    assert.deepEqual(loop.log, [{ at: 60_001, from: 0, to: 1, reason: 'cold-start' }]);
  });

  it('scales an idle pool to zero after idleToZeroMs when opted in, never otherwise', () => {
    const optedIn = new Loop(policy({ minReplicas: 0, idleToZeroMs: 600_000 }), 1);
    optedIn.run(60_000, () => ({ inFlight: 3 }));
    optedIn.run(595_000, () => ({}));
    assert.equal(optedIn.replicas, 1, '595 s idle');
    optedIn.run(5_000, () => ({}));
    assert.deepEqual(optedIn.log, [{ at: 660_000, from: 1, to: 0, reason: 'idle-to-zero' }]);

    const notOptedIn = new Loop(policy({ minReplicas: 1 }), 1);
    notOptedIn.run(3_600_000, () => ({}));
    assert.deepEqual(notOptedIn.log, []);
  });

  it('holds the count while paused, and still reports what it would have done', () => {
    const loop = new Loop(policy(), 1);
    loop.paused = true;
    loop.tick({ inFlight: 64 });
    assert.deepEqual([loop.replicas, loop.last.reason, loop.last.recommended], [1, 'paused', 4]);
  });
});
