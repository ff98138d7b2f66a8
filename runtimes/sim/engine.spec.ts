/**
 * The engine in virtual time: step costs against SIM_CALIBRATION's "what the parameters predict"
 * table, prefill scaling, prefix-cache hits, batching throughput, KV exhaustion and preemption.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from './clock.js';
import { Engine, EngineLoop, type EngineConfig, type RequestResult } from './engine.js';
import { getProfile, stepTimeMs, type SimProfile } from './profiles.js';
import { createRng } from './rng.js';

const P8B = getProfile('llama-3.1-8b-h100');

function engineConfig(profile: SimProfile, overrides: Partial<EngineConfig> = {}): EngineConfig {
  return {
    cost: profile.cost,
    kvCapacityTokens: profile.kvCapacityTokens,
    maxNumSeqs: profile.maxNumSeqs,
    maxNumBatchedTokens: profile.maxNumBatchedTokens,
    ...overrides,
  };
}

let uniq = 1;
/** Token ids that share no 16-token block with any other call's ids. */
function freshIds(n: number): number[] {
  const rng = createRng(uniq++);
  return Array.from({ length: n }, () => Math.floor(rng() * 120_000));
}

interface Finished {
  result: RequestResult;
  tokens: number[];
  tokenTimes: number[];
  submittedAt: number;
}

class Harness {
  readonly clock = new VirtualClock();
  readonly engine: Engine;
  readonly loop: EngineLoop;
  readonly finished: Finished[] = [];
  private next = 0;

  constructor(config: EngineConfig) {
    this.engine = new Engine(config);
    this.loop = new EngineLoop(this.engine, this.clock);
  }

  submit(prompt: number[], outputLen: number, onDone?: (f: Finished) => void): void {
    const tokens: number[] = [];
    const tokenTimes: number[] = [];
    const submittedAt = this.clock.now();
    this.loop.submit({
      id: `r${this.next++}`,
      promptTokenIds: prompt,
      outputTokenIds: freshIds(outputLen),
      sink: {
        onToken: (index, now) => {
          tokens.push(index);
          tokenTimes.push(now);
        },
        onFinish: (result) => {
          const f = { result, tokens, tokenTimes, submittedAt };
          this.finished.push(f);
          onDone?.(f);
        },
      },
    });
  }
}

/** Time to first token of one request alone on an idle engine. */
function singleTtft(profile: SimProfile, promptLen: number): number {
  const h = new Harness(engineConfig(profile));
  h.submit(freshIds(promptLen), 2);
  h.clock.run();
  return h.finished[0].tokenTimes[0];
}

/** Closed loop: `concurrency` clients each send their next request when the previous one ends. */
function closedLoop(profile: SimProfile, concurrency: number, requests: number, promptLen: number, outputLen: number) {
  const h = new Harness(engineConfig(profile));
  let sent = 0;
  const send = () => {
    if (sent >= requests) return;
    sent++;
    h.submit(freshIds(promptLen), outputLen, send);
  };
  for (let i = 0; i < concurrency; i++) send();
  h.clock.run();
  const seconds = h.clock.now() / 1000;
  const outputTokens = h.finished.reduce((sum, f) => sum + f.result.outputTokens, 0);
  const ttfts = h.finished.map((f) => f.tokenTimes[0] - f.submittedAt).sort((a, b) => a - b);
  return {
    outputTokPerS: outputTokens / seconds,
    reqPerS: h.finished.length / seconds,
    medianTtftMs: ttfts[Math.floor(ttfts.length / 2)],
    preemptions: h.engine.stats.preemptions,
  };
}

function assertWithin(actual: number, expected: number, tolerance: number, what: string): void {
  const error = Math.abs(actual - expected) / expected;
  assert.ok(error <= tolerance, `${what}: ${actual.toFixed(2)} vs ${expected} (${(error * 100).toFixed(1)} % off, limit ${tolerance * 100} %)`);
}

describe('step-time model (SIM_CALIBRATION §1)', () => {
  it('matches the Llama-3.1-8B row of "what the parameters predict" for single-request TTFT', () => {
    const table: Array<[number, number]> = [
      [512, 15],
      [2048, 50],
      [8192, 210],
      [32768, 1220],
    ];
    for (const [len, expectedMs] of table) assertWithin(singleTtft(P8B, len), expectedMs, 0.03, `TTFT ${len}`);
  });

  it('matches the Llama-3.1-8B decode step at 1k context for B = 1..256', () => {
    const table: Array<[number, number]> = [
      [1, 6.4],
      [8, 6.8],
      [32, 8.0],
      [64, 9.5],
      [128, 13.2],
      [256, 22.2],
    ];
    for (const [batch, expectedMs] of table) {
      const engine = new Engine(engineConfig(P8B));
      for (let i = 0; i < batch; i++) {
        engine.add({ id: `d${i}`, promptTokenIds: freshIds(1000), outputTokenIds: freshIds(100), sink: { onToken() {}, onFinish() {} } }, 0);
      }
      // Run the prefills (chunked, 8192 tokens per step) until the first pure decode step.
      let plan = engine.schedule(0);
      while (plan && plan.aPf > 0) {
        engine.complete(plan, 0);
        plan = engine.schedule(0);
      }
      assert.ok(plan, 'a decode step follows the prefills');
      assert.equal(plan.seqs.length, batch);
      assert.equal(plan.nTok, batch);
      assertWithin(plan.durationMs, expectedMs, 0.03, `decode step B=${batch}`);
    }
  });

  it('at 4k context per sequence the KV read dominates above ~32 sequences', () => {
    // SIM_CALIBRATION §2: 6.6 / 7.8 / 12.2 / 17.9 / 30.0 / 55.8 ms for B = 1 / 8 / 32 / 64 / 128 / 256.
    const expected: Array<[number, number]> = [
      [1, 6.6],
      [8, 7.8],
      [32, 12.2],
      [64, 17.9],
      [128, 30.0],
      [256, 55.8],
    ];
    for (const [b, ms] of expected) assertWithin(stepTimeMs(P8B.cost, b, b * 4000, 0, b), ms, 0.03, `B=${b} at 4k`);
  });
});

describe('prefill and prefix caching', () => {
  it('TTFT grows with the uncached prompt length, superlinearly for long prompts', (t) => {
    const lengths = [128, 512, 2048, 8192, 32768];
    const ttfts = lengths.map((len) => singleTtft(P8B, len));
    t.diagnostic(`Llama-3.1-8B TTFT (ms): ${lengths.map((l, i) => `${l}→${ttfts[i].toFixed(1)}`).join(', ')}`);
    for (let i = 1; i < ttfts.length; i++) assert.ok(ttfts[i] > ttfts[i - 1], `TTFT(${lengths[i]}) > TTFT(${lengths[i - 1]}): ${ttfts}`);
    // Quadratic attention: 4× the tokens costs more than 4× the time at the long end.
    assert.ok(ttfts[4] / ttfts[3] > 4, `TTFT(32k)/TTFT(8k) = ${(ttfts[4] / ttfts[3]).toFixed(2)}`);
  });

  it('a repeated long prompt hits the prefix cache: TTFT falls from ~270 ms to ~7 ms and cached tokens are reported', () => {
    const h = new Harness(engineConfig(P8B));
    const prompt = freshIds(10_000);
    h.submit(prompt, 3, () => h.submit(prompt, 3));
    h.clock.run();
    const [first, second] = h.finished;
    const ttft = (f: Finished) => f.tokenTimes[0] - f.submittedAt;
    assert.equal(first.result.cachedTokens, 0);
    // Whole 16-token blocks, never the last prompt token: 10,000 → 9,984 (SIM_CALIBRATION §5).
    assert.equal(second.result.cachedTokens, 9984);
    assertWithin(ttft(first), 270, 0.05, 'uncached 10k TTFT');
    assert.ok(ttft(second) < 8, `cached TTFT ${ttft(second).toFixed(2)} ms`);
    assert.equal(h.engine.stats.prefixCacheHits, 9984);
    assert.equal(h.engine.stats.prefixCacheQueries, 20_000);
  });

  it('a shared system prompt is hit by different requests up to their first differing block', () => {
    const h = new Harness(engineConfig(P8B));
    const system = freshIds(1000);
    h.submit([...system, ...freshIds(200)], 2, () => h.submit([...system, ...freshIds(200)], 2));
    h.clock.run();
    assert.equal(h.finished[1].result.cachedTokens, 992); // 62 full blocks of the 1000 shared tokens
  });
});

describe('continuous batching', () => {
  it('throughput rises with concurrency, then saturates', (t) => {
    const levels = [1, 4, 16, 64, 256, 1024];
    const results = levels.map((c) => closedLoop(P8B, c, Math.max(2 * c, 32), 230, 200));
    const tps = results.map((r) => r.outputTokPerS);
    t.diagnostic(
      `Llama-3.1-8B, 230 in / 200 out, closed loop: ${levels
        .map((c, i) => `c=${c}: ${Math.round(tps[i])} tok/s, ${results[i].reqPerS.toFixed(1)} req/s, median TTFT ${results[i].medianTtftMs.toFixed(1)} ms, preemptions ${results[i].preemptions}`)
        .join('; ')}`,
    );
    for (let i = 1; i < tps.length; i++) assert.ok(tps[i] > tps[i - 1] * 0.97, `throughput at ${levels[i]} ≥ at ${levels[i - 1]}: ${tps.map(Math.round)}`);
    assert.ok(tps[2] > 10 * tps[0], `16 clients give > 10× one client: ${tps.map(Math.round)}`);
    assert.ok(tps[5] < 1.6 * tps[4], `1024 clients give < 1.6× 256 clients (saturation): ${tps.map(Math.round)}`);
    // SIM_CALIBRATION §2: Llama-3.1-8B saturates near 14k output tok/s on a ShareGPT-like mix.
    assert.ok(tps[5] > 9000 && tps[5] < 20000, `saturated throughput ${Math.round(tps[5])} tok/s`);
    assert.ok(results[5].medianTtftMs > 5 * results[0].medianTtftMs, 'queueing shows up in TTFT at saturation');
  });

  it('never runs more than max_num_seqs sequences nor more than max_num_batched_tokens tokens per step', () => {
    const engine = new Engine(engineConfig(P8B, { maxNumSeqs: 8, maxNumBatchedTokens: 512 }));
    for (let i = 0; i < 20; i++) engine.add({ id: `s${i}`, promptTokenIds: freshIds(300), outputTokenIds: freshIds(5), sink: { onToken() {}, onFinish() {} } }, 0);
    let finished = 0;
    for (let i = 0; i < 20; i++) engine.add({ id: `t${i}`, promptTokenIds: freshIds(50), outputTokenIds: freshIds(5), sink: { onToken() {}, onFinish: () => finished++ } }, 0);
    for (let plan = engine.schedule(0); plan; plan = engine.schedule(0)) {
      assert.ok(plan.seqs.length <= 8);
      assert.ok(plan.nTok <= 512);
      assert.ok(engine.numRunning <= 8);
      engine.complete(plan, 0);
    }
    assert.equal(finished, 20);
    assert.equal(engine.hasWork(), false);
  });

  it('chunked prefill: a long prompt shares steps with running decodes instead of stalling them for its whole prefill', () => {
    const h = new Harness(engineConfig(P8B));
    h.submit(freshIds(100), 60); // decoding while the long prompt arrives
    h.clock.run(50);
    h.submit(freshIds(32_768), 2);
    h.clock.run();
    const decoder = h.finished.find((f) => f.result.promptTokens === 100) as Finished;
    const gaps = decoder.tokenTimes.slice(1).map((t, i) => t - decoder.tokenTimes[i]);
    const worst = Math.max(...gaps);
    // One 8192-token chunk per step (≈ 210–290 ms), never the whole 32k prefill (≈ 1.2 s) at once.
    assert.ok(worst > 150 && worst < 400, `worst inter-token gap ${worst.toFixed(1)} ms`);
    assert.ok(gaps.filter((g) => g > 150).length >= 4, 'the decoder rode in each of the four prefill steps');
  });
});

describe('KV cache pressure', () => {
  it('with a small KV pool the cache fills, newest requests are preempted and recomputed, and every request completes', () => {
    const capacity = 4096;
    const h = new Harness(engineConfig(P8B, { kvCapacityTokens: capacity }));
    let peakUsage = 0;
    const outputLen = 200;
    for (let i = 0; i < 24; i++) h.submit(freshIds(300), outputLen);
    // Sample KV usage at every event.
    const sample = () => {
      peakUsage = Math.max(peakUsage, h.engine.kv.usage());
      if (h.engine.hasWork()) h.clock.setTimer(5, sample);
    };
    sample();
    h.clock.run();
    assert.equal(h.finished.length, 24);
    for (const f of h.finished) {
      assert.equal(f.result.outputTokens, outputLen);
      assert.deepEqual(f.tokens, Array.from({ length: outputLen }, (_, i) => i), 'each token exactly once, in order');
    }
    assert.ok(h.engine.stats.preemptions > 0, 'preemptions happened');
    assert.ok(h.finished.some((f) => f.result.preemptions > 0));
    assert.ok(peakUsage > 0.9, `KV usage peaked at ${peakUsage}`);
    assert.equal(h.engine.kv.usage(), 0, 'all blocks free (cached blocks count as free) at the end');
  });

  it('aborting a running request frees its blocks', () => {
    const h = new Harness(engineConfig(P8B));
    h.submit(freshIds(1000), 500);
    h.clock.run(100);
    assert.equal(h.engine.numRunning, 1);
    assert.ok(h.engine.kv.usage() > 0);
    h.loop.abort('r0');
    assert.equal(h.engine.numRunning, 0);
    assert.equal(h.engine.kv.usage(), 0);
    assert.equal(h.finished[0].result.aborted, true);
    h.clock.run();
  });
});
