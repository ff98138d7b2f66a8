/**
 * Prometheus metrics under vLLM V1's names, types, labels (model_name, engine="0") and histogram
 * buckets, as registered by PrometheusStatLogger in vllm/v1/metrics/loggers.py. Only what the
 * simulator models is exported.
 *
 * Gauges and counters read the engine's state at scrape time (no work per step). Per-token latency
 * samples are buffered in a typed array and replayed into the histograms at scrape time, which keeps
 * the token path free of prom-client calls.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine, RequestResult } from './engine.js';

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
const REQUEST_LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

/** vLLM's build_1_2_5_buckets(max_model_len). */
function buckets125(max: number): number[] {
  const out: number[] = [];
  for (let e = 1; ; e *= 10) {
    for (const m of [1, 2, 5]) {
      if (m * e > max) return out;
      out.push(m * e);
    }
  }
}

export type FinishedReason = 'stop' | 'length' | 'abort';

export interface CacheConfigInfo {
  blockSize: number;
  numGpuBlocks: number;
  enablePrefixCaching: boolean;
}

export class SimMetrics {
  readonly registry = new Registry();
  private readonly labels: { model_name: string; engine: string };
  private readonly success: Counter<'model_name' | 'engine' | 'finished_reason'>;
  private readonly ttft;
  private readonly e2e;
  private readonly queue;
  private readonly prefill;
  private readonly decode;
  private readonly inference;
  private readonly promptTokens;
  private readonly generationTokens;
  private itlBuffer = new Float64Array(4096);
  private itlCount = 0;

  constructor(
    model: string,
    private readonly engine: Engine,
    maxModelLen: number,
    cache: CacheConfigInfo,
  ) {
    this.labels = { model_name: model, engine: '0' };
    const labelNames = ['model_name', 'engine'] as const;
    const registers = [this.registry];
    const labels = this.labels;
    const stats = engine.stats;

    new Gauge({
      name: 'vllm:num_requests_running',
      help: 'Number of requests in model execution batches.',
      labelNames,
      registers,
      collect() {
        this.set(labels, engine.numRunning);
      },
    });
    new Gauge({
      name: 'vllm:num_requests_waiting',
      help: 'Number of requests waiting to be processed.',
      labelNames,
      registers,
      collect() {
        this.set(labels, engine.numWaiting);
      },
    });
    new Gauge({
      name: 'vllm:kv_cache_usage_perc',
      help: 'KV-cache usage. 1 means 100 percent usage.',
      labelNames,
      registers,
      collect() {
        this.set(labels, engine.kv.usage());
      },
    });
    const counterFromStats = (name: string, help: string, read: () => number) => {
      let reported = 0;
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          const value = read();
          if (value > reported) this.inc(labels, value - reported);
          reported = value;
        },
      }).inc(labels, 0);
    };
    counterFromStats('vllm:prefix_cache_queries_total', 'Prefix cache queries, in terms of number of queried tokens.', () => stats.prefixCacheQueries);
    counterFromStats('vllm:prefix_cache_hits_total', 'Prefix cache hits, in terms of number of cached tokens.', () => stats.prefixCacheHits);
    counterFromStats('vllm:num_preemptions_total', 'Cumulative number of preemption from the engine.', () => stats.preemptions);
    counterFromStats('vllm:prompt_tokens_total', 'Number of prefill tokens processed.', () => stats.promptTokens);
    counterFromStats('vllm:generation_tokens_total', 'Number of generation tokens processed.', () => stats.generationTokens);

    this.success = new Counter({
      name: 'vllm:request_success_total',
      help: 'Count of successfully processed requests.',
      labelNames: ['model_name', 'engine', 'finished_reason'],
      registers,
    });
    for (const reason of ['stop', 'length', 'abort'] as const) this.success.inc({ ...labels, finished_reason: reason }, 0);

    const histogram = (name: string, help: string, buckets: number[], collect?: () => void) =>
      new Histogram({ name, help, buckets, labelNames, registers, collect }).labels(labels);
    this.ttft = histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', TTFT_BUCKETS);
    const itl = histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS, () => this.flushItl());
    const tpot = histogram(
      'vllm:time_per_output_token_seconds',
      'Histogram of time per output token in seconds. DEPRECATED: Use vllm:inter_token_latency_seconds instead.',
      ITL_BUCKETS,
      () => this.flushItl(),
    );
    this.itlTargets = [itl, tpot];
    this.e2e = histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', REQUEST_LATENCY_BUCKETS);
    this.queue = histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', REQUEST_LATENCY_BUCKETS);
    this.inference = histogram('vllm:request_inference_time_seconds', 'Histogram of time spent in RUNNING phase for request.', REQUEST_LATENCY_BUCKETS);
    this.prefill = histogram('vllm:request_prefill_time_seconds', 'Histogram of time spent in PREFILL phase for request.', REQUEST_LATENCY_BUCKETS);
    this.decode = histogram('vllm:request_decode_time_seconds', 'Histogram of time spent in DECODE phase for request.', REQUEST_LATENCY_BUCKETS);
    this.promptTokens = histogram('vllm:request_prompt_tokens', 'Number of prefill tokens processed.', buckets125(maxModelLen));
    this.generationTokens = histogram('vllm:request_generation_tokens', 'Number of generation tokens processed.', buckets125(maxModelLen));

    // vLLM emulates Info with a gauge fixed at 1 (log_metrics_info in loggers.py).
    const info = {
      block_size: String(cache.blockSize),
      cache_dtype: 'auto',
      enable_prefix_caching: cache.enablePrefixCaching ? 'True' : 'False',
      gpu_memory_utilization: '0.9',
      num_cpu_blocks: 'None',
      num_gpu_blocks: String(cache.numGpuBlocks),
      num_gpu_blocks_override: 'None',
      prefix_caching_hash_algo: 'sha256',
      engine: '0',
    };
    new Gauge({
      name: 'vllm:cache_config_info',
      help: 'Information of the LLMEngine CacheConfig',
      labelNames: Object.keys(info),
      registers,
    }).set(info, 1);
  }

  private readonly itlTargets: Array<{ observe(value: number): void }>;

  /** Engine observer hook: one inter-token gap, in ms. */
  recordInterTokenLatency(ms: number): void {
    if (this.itlCount === this.itlBuffer.length) {
      if (this.itlBuffer.length < 1 << 20) {
        const bigger = new Float64Array(this.itlBuffer.length * 2);
        bigger.set(this.itlBuffer);
        this.itlBuffer = bigger;
      } else {
        this.flushItl();
      }
    }
    this.itlBuffer[this.itlCount++] = ms;
  }

  /** One engine request finished (a choice of an HTTP request, or an embedding input). */
  recordFinished(result: RequestResult, reason: FinishedReason): void {
    this.success.inc({ ...this.labels, finished_reason: reason });
    if (result.aborted) return;
    const seconds = (ms: number) => Math.max(0, ms) / 1000;
    const firstToken = result.firstTokenMs >= 0 ? result.firstTokenMs : result.finishMs;
    if (result.firstTokenMs >= 0) this.ttft.observe(seconds(result.firstTokenMs - result.arrivalMs));
    this.e2e.observe(seconds(result.finishMs - result.arrivalMs));
    this.queue.observe(seconds(result.firstScheduledMs - result.arrivalMs));
    this.inference.observe(seconds(result.finishMs - result.firstScheduledMs));
    this.prefill.observe(seconds(firstToken - result.firstScheduledMs));
    this.decode.observe(seconds(result.finishMs - firstToken));
    this.promptTokens.observe(result.promptTokens);
    this.generationTokens.observe(result.outputTokens);
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private flushItl(): void {
    const n = this.itlCount;
    if (n === 0) return;
    for (const target of this.itlTargets) {
      for (let i = 0; i < n; i++) target.observe(this.itlBuffer[i] / 1000);
    }
    this.itlCount = 0;
  }
}
