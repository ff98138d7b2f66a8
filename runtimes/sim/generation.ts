/**
 * Runs one HTTP request's engine work: the frontend delay, one engine request per choice (and per
 * prompt for /v1/completions), token delivery through the fault gates (stall, error-after,
 * crash-after), aborts when the client goes away, metrics, and the final usage.
 */
import type { ServerResponse } from 'node:http';
import type { RequestResult } from './engine.js';
import { SimError } from './errors.js';
import type { RequestFaults } from './faults.js';
import type { FinishedReason } from './metrics.js';
import type { OutputPlan } from './output.js';
import type { SimContext } from './context.js';

export interface GenerationJob {
  promptIds: readonly number[];
  /** vLLM's cache_salt: only requests with the same salt share prefix-cache blocks. */
  cacheSalt?: string;
  plan: OutputPlan;
  /** True for the first job of each prompt: its prompt (and cached) tokens count once in usage. */
  countsPrompt: boolean;
}

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export interface GenerationHooks {
  /** Token `token` of job `job` is out: write it (stream) or note it. */
  onToken(job: number, token: number): void;
  /** Every job finished; the response can be completed. */
  onDone(usage: Usage): void;
  /** An injected mid-generation failure; the engine requests are already aborted. */
  onError(err: SimError): void;
}

let nextRequestId = 0;

export function runGeneration(
  ctx: SimContext,
  res: ServerResponse,
  arrivalMs: number,
  jobs: GenerationJob[],
  faults: RequestFaults,
  hooks: GenerationHooks,
): void {
  new GenerationRun(ctx, res, jobs, faults, hooks).start(arrivalMs);
}

class GenerationRun {
  private readonly ids: string[];
  private readonly results: (RequestResult | undefined)[];
  private remaining: number;
  private delivered = 0;
  private closed = false;
  /** Deliveries held back while a stall is in effect. */
  private queue: Array<() => void> | null = null;
  private stallDone = false;

  constructor(
    private readonly ctx: SimContext,
    private readonly res: ServerResponse,
    private readonly jobs: GenerationJob[],
    private readonly faults: RequestFaults,
    private readonly hooks: GenerationHooks,
  ) {
    const base = `sim-${process.pid}-${nextRequestId++}`;
    this.ids = jobs.map((_, i) => `${base}-${i}`);
    this.results = new Array(jobs.length);
    this.remaining = jobs.length;
  }

  start(arrivalMs: number): void {
    this.res.once('close', () => this.onClose());
    // The API server's own time (HTTP, tokenization, detokenization; SIM_CALIBRATION §1), minus the
    // real time the simulator already spent on this request, plus any injected delay.
    const elapsed = this.ctx.clock.now() - arrivalMs;
    const delay = Math.max(0, this.ctx.config.frontendOverheadMs - elapsed) + this.faults.delayMs;
    if (delay > 0) this.ctx.clock.setTimer(delay, () => this.submit());
    else this.submit();
  }

  private submit(): void {
    if (this.closed || this.ctx.crashing) return;
    try {
      this.submitAll();
    } catch (err) {
      // Runs from a timer: an unexpected engine refusal must become a 500, not a process crash.
      this.fail(new SimError(500, `Engine rejected the request: ${(err as Error).message}`, 'InternalServerError'));
    }
  }

  private submitAll(): void {
    this.jobs.forEach((job, i) => {
      this.ctx.loop.submit({
        id: this.ids[i],
        promptTokenIds: job.promptIds,
        cacheSalt: job.cacheSalt,
        outputTokenIds: job.plan.ids,
        sink: {
          onToken: (index) => this.deliver(() => this.token(i, index)),
          onFinish: (result) => this.finished(i, result),
        },
      });
    });
  }

  private token(job: number, index: number): void {
    if (this.closed || this.ctx.crashing) return;
    this.hooks.onToken(job, index);
    this.delivered++;
    const f = this.faults;
    if (f.crashAfterTokens !== undefined && this.delivered >= f.crashAfterTokens) {
      this.ctx.crash(this.res);
      return;
    }
    if (f.errorAfterTokens !== undefined && this.delivered >= f.errorAfterTokens) {
      this.fail(new SimError(500, `Simulated fault: generation failed after ${this.delivered} tokens`, 'InternalServerError'));
      return;
    }
    if (f.stallAfterTokens !== undefined && !this.stallDone && this.delivered >= f.stallAfterTokens) {
      this.stallDone = true;
      this.queue = [];
      this.ctx.clock.setTimer(f.stallMs, () => this.release());
    }
  }

  private finished(job: number, result: RequestResult): void {
    const plan = this.jobs[job].plan;
    const reason: FinishedReason = result.aborted ? 'abort' : plan.finishReason;
    this.ctx.metrics.recordFinished(result, reason);
    if (result.aborted) return;
    this.deliver(() => {
      this.results[job] = result;
      if (--this.remaining === 0 && !this.closed && !this.ctx.crashing) {
        this.closed = true;
        this.hooks.onDone(this.usage());
      }
    });
  }

  private deliver(fn: () => void): void {
    if (this.queue) this.queue.push(fn);
    else fn();
  }

  private release(): void {
    const queue = this.queue ?? [];
    this.queue = null;
    for (const fn of queue) fn();
  }

  private fail(err: SimError): void {
    this.abortAll();
    this.closed = true;
    this.hooks.onError(err);
  }

  private onClose(): void {
    if (this.closed) return;
    // The client went away before the response was complete.
    this.closed = true;
    this.abortAll();
  }

  private abortAll(): void {
    for (const id of this.ids) this.ctx.loop.abort(id);
  }

  private usage(): Usage {
    let prompt = 0;
    let cached = 0;
    let completion = 0;
    this.jobs.forEach((job, i) => {
      const r = this.results[i] as RequestResult;
      completion += r.outputTokens;
      if (job.countsPrompt) {
        prompt += r.promptTokens;
        cached += r.cachedTokens;
      }
    });
    return {
      prompt_tokens: prompt,
      total_tokens: prompt + completion,
      completion_tokens: completion,
      prompt_tokens_details: { cached_tokens: cached },
    };
  }
}
