/**
 * The simulated vLLM V1 engine core: continuous batching in discrete steps.
 *
 * Each step (vLLM `Scheduler.schedule`, SIM_CALIBRATION §4):
 *   1. running requests first, in admission order: a decoding request gets 1 token, a partially
 *      prefilled one its next chunk, all within `maxNumBatchedTokens` (chunked prefill). When the KV
 *      pool cannot supply a block, the newest running request is preempted: its blocks are freed,
 *      it goes back to the front of the waiting queue and is recomputed later.
 *   2. then, if nothing was preempted, waiting requests FCFS while the token budget and
 *      `maxNumSeqs` allow: a prefix-cache lookup first (whole 16-token blocks, the last prompt token
 *      is always recomputed), then a prefill chunk of the uncached rest.
 * The step lasts `stepTimeMs` (SIM_CALIBRATION §1); at its end every request whose scheduled tokens
 * reached the end of its known tokens samples one output token.
 *
 * The engine is pure logic: `schedule(now)` plans a step, `complete(plan, now)` applies it. Time
 * comes from outside; `EngineLoop` drives it with a Clock (real or virtual).
 */
import type { Clock } from './clock.js';
import { Deque } from './deque.js';
import { BLOCK_SIZE, KvCache, type KvSeq } from './kv-cache.js';
import { stepTimeMs, type StepCostParams } from './profiles.js';

export interface EngineConfig {
  cost: StepCostParams;
  kvCapacityTokens: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  enablePrefixCaching?: boolean;
}

/** Receives a request's progress. Calls happen synchronously inside `complete`. */
export interface RequestSink {
  /** Output token `index` (0-based) was sampled at `nowMs`. */
  onToken(index: number, nowMs: number): void;
  onFinish(result: RequestResult): void;
}

export interface RequestSpec {
  id: string;
  promptTokenIds: readonly number[];
  /**
   * The ids of the whole output this request will produce (the simulator knows its text up front);
   * their count is the number of decode steps. Empty for pooling (embedding) requests, which finish
   * when their prefill completes.
   */
  outputTokenIds: readonly number[];
  /** vLLM's cache_salt: seeds the first block's hash, so only equal salts share cached blocks. */
  cacheSalt?: string;
  sink: RequestSink;
}

export interface RequestResult {
  id: string;
  promptTokens: number;
  outputTokens: number;
  /** Prompt tokens served from the prefix cache at the first schedule (usage.cached_tokens). */
  cachedTokens: number;
  preemptions: number;
  aborted: boolean;
  arrivalMs: number;
  firstScheduledMs: number;
  firstTokenMs: number;
  finishMs: number;
}

/** Cumulative counters, read by the metrics exporter. */
export interface EngineStats {
  steps: number;
  promptTokens: number;
  generationTokens: number;
  preemptions: number;
  prefixCacheQueries: number;
  prefixCacheHits: number;
  busyMs: number;
}

export interface EngineObserver {
  /** Gap between two consecutive output tokens of one request, in ms. */
  interTokenLatency?(ms: number): void;
}

const enum State {
  Waiting,
  Running,
  Done,
}

class Seq implements KvSeq {
  readonly tokenIds: number[];
  readonly cacheSalt: string | undefined;
  blocks: number[] = [];
  blockHashes: number[] = [];
  state = State.Waiting;
  numComputed = 0;
  numOutput = 0;
  cachedTokens = -1;
  preemptions = 0;
  firstScheduledMs = -1;
  firstTokenMs = -1;
  lastTokenMs = -1;

  constructor(
    readonly spec: RequestSpec,
    readonly arrivalMs: number,
  ) {
    this.tokenIds = spec.promptTokenIds.concat(spec.outputTokenIds);
    this.cacheSalt = spec.cacheSalt;
  }

  get promptLen(): number {
    return this.spec.promptTokenIds.length;
  }

  get numTokens(): number {
    return this.spec.promptTokenIds.length + this.numOutput;
  }
}

export interface StepPlan {
  seqs: Seq[];
  newTokens: number[];
  durationMs: number;
  nTok: number;
  sDec: number;
  aPf: number;
}

export class Engine {
  readonly kv: KvCache;
  readonly stats: EngineStats = {
    steps: 0,
    promptTokens: 0,
    generationTokens: 0,
    preemptions: 0,
    prefixCacheQueries: 0,
    prefixCacheHits: 0,
    busyMs: 0,
  };
  private readonly waiting = new Deque<Seq>();
  private running: Seq[] = [];
  private readonly byId = new Map<string, Seq>();

  constructor(
    readonly config: EngineConfig,
    public observer: EngineObserver = {},
  ) {
    this.kv = new KvCache(Math.floor(config.kvCapacityTokens / BLOCK_SIZE), config.enablePrefixCaching ?? true);
  }

  get numRunning(): number {
    return this.running.length;
  }

  get numWaiting(): number {
    return this.waiting.length;
  }

  /** Token capacity of the KV pool (whole blocks). */
  get capacityTokens(): number {
    return this.kv.numBlocks * BLOCK_SIZE;
  }

  hasWork(): boolean {
    return this.running.length > 0 || this.waiting.length > 0;
  }

  add(spec: RequestSpec, nowMs: number): void {
    if (this.byId.has(spec.id)) throw new Error(`duplicate request id ${spec.id}`);
    const total = spec.promptTokenIds.length + spec.outputTokenIds.length;
    if (total > this.capacityTokens) {
      throw new Error(`request ${spec.id} needs ${total} tokens of KV cache; the pool holds ${this.capacityTokens}`);
    }
    if (spec.promptTokenIds.length === 0) throw new Error(`request ${spec.id} has an empty prompt`);
    const seq = new Seq(spec, nowMs);
    this.byId.set(spec.id, seq);
    this.waiting.pushBack(seq);
  }

  /** Drops a request wherever it is (client went away). Its sink gets onFinish with aborted=true. */
  abort(id: string, nowMs: number): boolean {
    const seq = this.byId.get(id);
    if (!seq || seq.state === State.Done) return false;
    if (seq.state === State.Waiting) this.waiting.remove(seq);
    else this.running.splice(this.running.indexOf(seq), 1);
    this.finish(seq, nowMs, true);
    return true;
  }

  /** Plans the next step, or returns null when there is nothing to run. */
  schedule(nowMs: number): StepPlan | null {
    const { maxNumBatchedTokens, maxNumSeqs } = this.config;
    const seqs: Seq[] = [];
    const newTokens: number[] = [];
    let budget = maxNumBatchedTokens;
    let preempted = false;

    // 1. Running requests, oldest admission first.
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const seq = this.running[i];
      const n = Math.min(seq.numTokens - seq.numComputed, budget);
      let scheduled = false;
      while (!scheduled) {
        if (this.kv.allocate(seq, seq.numComputed + n)) {
          scheduled = true;
          break;
        }
        const victim = this.running.pop() as Seq;
        this.preempt(victim);
        preempted = true;
        if (victim === seq) break;
      }
      if (!scheduled) break;
      this.kv.cacheFullBlocks(seq, Math.min(seq.numComputed + n, seq.numTokens));
      seqs.push(seq);
      newTokens.push(n);
      budget -= n;
    }

    // 2. Waiting requests, FCFS, unless this step had to preempt.
    while (!preempted && budget > 0 && this.waiting.length > 0 && this.running.length < maxNumSeqs) {
      const seq = this.waiting.peekFront() as Seq;
      let hits: number[] = [];
      if (seq.numComputed === 0) {
        hits = this.kv.findCachedPrefix(seq, seq.numTokens - 1);
        this.stats.prefixCacheQueries += seq.numTokens;
        this.stats.prefixCacheHits += hits.length * BLOCK_SIZE;
      }
      const computed = hits.length * BLOCK_SIZE;
      const n = Math.min(seq.numTokens - computed, budget);
      if (!this.kv.allocate(seq, computed + n, hits)) break;
      this.waiting.popFront();
      seq.numComputed = computed;
      if (seq.cachedTokens < 0) seq.cachedTokens = computed;
      if (seq.firstScheduledMs < 0) seq.firstScheduledMs = nowMs;
      seq.state = State.Running;
      this.running.push(seq);
      this.kv.cacheFullBlocks(seq, Math.min(computed + n, seq.numTokens));
      seqs.push(seq);
      newTokens.push(n);
      budget -= n;
    }

    if (seqs.length === 0) return null;
    let nTok = 0;
    let sDec = 0;
    let aPf = 0;
    for (let i = 0; i < seqs.length; i++) {
      const seq = seqs[i];
      const n = newTokens[i];
      nTok += n;
      if (n === 1 && seq.numOutput > 0 && seq.numComputed === seq.numTokens - 1) sDec += seq.numComputed;
      else aPf += n * (seq.numComputed + n / 2);
    }
    const durationMs = stepTimeMs(this.config.cost, nTok, sDec, aPf, seqs.length);
    return { seqs, newTokens, durationMs, nTok, sDec, aPf };
  }

  /** Applies a planned step that ended at `nowMs`: advances KV state and samples tokens. */
  complete(plan: StepPlan, nowMs: number): void {
    this.stats.steps++;
    this.stats.busyMs += plan.durationMs;
    let finished = false;
    for (let i = 0; i < plan.seqs.length; i++) {
      const seq = plan.seqs[i];
      if (seq.state !== State.Running) continue; // aborted while the step ran
      seq.numComputed += plan.newTokens[i];
      if (seq.numComputed < seq.numTokens) continue; // partial prefill chunk: no token yet
      const target = seq.spec.outputTokenIds.length;
      if (target === 0) {
        this.stats.promptTokens += seq.promptLen;
        this.finishRunning(seq, nowMs);
        finished = true;
        continue;
      }
      const index = seq.numOutput++;
      this.stats.generationTokens++;
      if (seq.firstTokenMs < 0) {
        seq.firstTokenMs = nowMs;
        this.stats.promptTokens += seq.promptLen;
      } else {
        this.observer.interTokenLatency?.(nowMs - seq.lastTokenMs);
      }
      seq.lastTokenMs = nowMs;
      seq.spec.sink.onToken(index, nowMs);
      if (seq.numOutput >= target && seq.state === State.Running) {
        this.finishRunning(seq, nowMs);
        finished = true;
      }
    }
    if (finished) this.running = this.running.filter((s) => s.state === State.Running);
  }

  private preempt(seq: Seq): void {
    this.kv.free(seq);
    seq.numComputed = 0;
    seq.state = State.Waiting;
    seq.preemptions++;
    this.stats.preemptions++;
    this.waiting.pushFront(seq);
  }

  /** Marks done and frees; the caller removes it from `running`. */
  private finishRunning(seq: Seq, nowMs: number): void {
    this.finish(seq, nowMs, false);
  }

  private finish(seq: Seq, nowMs: number, aborted: boolean): void {
    seq.state = State.Done;
    this.kv.free(seq);
    this.byId.delete(seq.spec.id);
    seq.spec.sink.onFinish({
      id: seq.spec.id,
      promptTokens: seq.promptLen,
      outputTokens: seq.numOutput,
      cachedTokens: Math.max(0, seq.cachedTokens),
      preemptions: seq.preemptions,
      aborted,
      arrivalMs: seq.arrivalMs,
      firstScheduledMs: seq.firstScheduledMs,
      firstTokenMs: seq.firstTokenMs,
      finishMs: nowMs,
    });
  }
}

/**
 * Runs an Engine against a Clock: plan a step, wait its duration, apply it, repeat while there is
 * work; sleep when idle and wake on the next submission.
 *
 * In real time, timers fire late by up to a few ms. Steps are therefore laid end to end on the
 * modelled timeline (the next step starts when the previous one was due to end, not when its timer
 * fired), so lateness is caught up instead of accumulating; more than MAX_LAG_MS behind, the
 * timeline resyncs to the clock.
 */
export class EngineLoop {
  private busy = false;
  private lastEndMs = -Infinity;
  private static readonly MAX_LAG_MS = 25;

  constructor(
    readonly engine: Engine,
    private readonly clock: Clock,
  ) {}

  submit(spec: RequestSpec): void {
    this.engine.add(spec, this.clock.now());
    this.wake();
  }

  abort(id: string): void {
    this.engine.abort(id, this.clock.now());
  }

  private wake(): void {
    if (this.busy) return;
    this.busy = true;
    this.clock.setTimer(0, () => this.step(false));
  }

  private step(continuing: boolean): void {
    const now = this.clock.now();
    const plan = this.engine.schedule(now);
    if (!plan) {
      this.busy = false;
      return;
    }
    const start = continuing && this.lastEndMs >= now - EngineLoop.MAX_LAG_MS ? this.lastEndMs : now;
    const end = start + plan.durationMs;
    this.clock.setTimer(end - now, () => {
      this.lastEndMs = end;
      this.engine.complete(plan, this.clock.now());
      this.step(true);
    });
  }
}
