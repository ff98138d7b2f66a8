/**
 * trtllm-serve's two load exporters, for `--flavor trtllm` (tensorrt_llm/serve/openai_server.py,
 * tensorrt_llm/metrics/collector.py in NVIDIA/TensorRT-LLM), fed from the same engine as vLLM's names:
 *
 * - GET /prometheus/metrics: Prometheus text, `trtllm_*` names with the labels trtllm-serve gives its
 *   MetricsCollector (`model_name="undefined"`, `engine_type="undefined"`): requests running, waiting
 *   and paused, KV utilization, max / used blocks and tokens per block, prompt and cached prompt tokens.
 * - GET /metrics: JSON, the iteration stats produced since the previous read (trtllm-serve drains a
 *   queue). The simulator returns at most one entry per read, the engine's state now, and `[]` when
 *   no engine step ran since the previous read, which is what an idle TensorRT-LLM engine returns.
 *
 * Differences from a real server: preempted sequences go back to the waiting queue (vLLM's model),
 * so `trtllm_num_paused_requests` stays 0; gauges are read at scrape time, not at the last iteration.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Engine } from './engine.js';
import { BLOCK_SIZE } from './kv-cache.js';

const LABELS = { model_name: 'undefined', engine_type: 'undefined' };

export class TrtllmMetrics {
  readonly registry = new Registry();
  private lastReadStep = 0;

  constructor(private readonly engine: Engine) {
    const labelNames = ['model_name', 'engine_type'] as const;
    const registers = [this.registry];
    const kv = engine.kv;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.set(LABELS, read());
        },
      });
    gauge('trtllm_num_requests_running', 'Number of active requests', () => engine.numRunning);
    gauge('trtllm_num_requests_waiting', 'Number of queued requests', () => engine.numWaiting);
    gauge('trtllm_num_paused_requests', 'Number of paused requests', () => 0);
    gauge('trtllm_kv_cache_utilization', 'KV cache utilization', () => kv.usage());
    gauge('trtllm_kv_cache_max_blocks', 'Maximum number of KV cache blocks', () => kv.numBlocks);
    gauge('trtllm_kv_cache_used_blocks', 'Number of used KV cache blocks', () => kv.numBlocks - kv.numFreeBlocks);
    gauge('trtllm_kv_cache_tokens_per_block', 'Tokens per KV cache block', () => BLOCK_SIZE);
    const counter = (name: string, help: string, read: () => number) => {
      let reported = 0;
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          const value = read();
          if (value > reported) this.inc(LABELS, value - reported);
          reported = value;
        },
      }).inc(LABELS, 0);
    };
    const stats = engine.stats;
    counter('trtllm_prompt_tokens_total', 'Number of prompt tokens processed', () => stats.prefixCacheQueries);
    counter('trtllm_prompt_cached_tokens_total', 'Number of prompt tokens served from the KV cache', () => stats.prefixCacheHits);
    counter('trtllm_generation_tokens_total', 'Number of generation tokens processed', () => stats.generationTokens);
  }

  renderPrometheus(): Promise<string> {
    return this.registry.metrics();
  }

  /** The body of GET /metrics: iteration stats since the previous read (here: at most the latest). */
  iterationStats(): object[] {
    const { engine } = this;
    const steps = engine.stats.steps;
    if (steps === this.lastReadStep) return [];
    this.lastReadStep = steps;
    const kv = engine.kv;
    const used = kv.numBlocks - kv.numFreeBlocks;
    const reusedBlocks = Math.floor(engine.stats.prefixCacheHits / BLOCK_SIZE);
    const missedBlocks = Math.floor((engine.stats.prefixCacheQueries - engine.stats.prefixCacheHits) / BLOCK_SIZE);
    return [
      {
        iter: steps,
        numActiveRequests: engine.numRunning,
        numQueuedRequests: engine.numWaiting,
        maxNumActiveRequests: engine.config.maxNumSeqs,
        inflightBatchingStats: { numScheduledRequests: engine.numRunning, numPausedRequests: 0 },
        kvCacheStats: {
          maxNumBlocks: kv.numBlocks,
          freeNumBlocks: kv.numFreeBlocks,
          usedNumBlocks: used,
          tokensPerBlock: BLOCK_SIZE,
          reusedBlocks,
          missedBlocks,
          cacheHitRate: reusedBlocks + missedBlocks > 0 ? reusedBlocks / (reusedBlocks + missedBlocks) : 0,
        },
      },
    ];
  }
}
