import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrtllmIterationStats, parseTrtllmPrometheus } from './trtllm.metrics.js';

const LABELS = 'engine_type="undefined",model_name="undefined"';

/** As prometheus_client writes trtllm-serve's MetricsCollector (tensorrt_llm/metrics/collector.py). */
const PROMETHEUS = `# HELP trtllm_num_requests_running Number of active requests
# TYPE trtllm_num_requests_running gauge
trtllm_num_requests_running{${LABELS}} 5.0
# HELP trtllm_num_requests_waiting Number of queued requests
# TYPE trtllm_num_requests_waiting gauge
trtllm_num_requests_waiting{${LABELS}} 3.0
trtllm_num_paused_requests{${LABELS}} 1.0
trtllm_kv_cache_utilization{${LABELS}} 0.42
trtllm_kv_cache_max_blocks{${LABELS}} 1000.0
trtllm_kv_cache_used_blocks{${LABELS}} 420.0
trtllm_kv_cache_tokens_per_block{${LABELS}} 32.0
# TYPE trtllm_prompt_tokens_total counter
trtllm_prompt_tokens_total{${LABELS}} 12000.0
trtllm_prompt_tokens_created{${LABELS}} 1.7561e+09
trtllm_prompt_cached_tokens_total{${LABELS}} 8000.0
trtllm_time_to_first_token_seconds_bucket{${LABELS},le="0.001"} 0.0
trtllm_request_success_total{${LABELS},finished_reason="stop"} 40.0
`;

/** One entry of GET /metrics (BaseLLM.get_stats), abridged to the fields read and a few others. */
function iteration(iter: number, active: number, queued: number, used: number, reused: number, missed: number) {
  return {
    iter,
    iterLatencyMS: 16.5,
    gpuMemUsage: 56_401_920_000,
    numActiveRequests: active,
    numQueuedRequests: queued,
    maxNumActiveRequests: 64,
    inflightBatchingStats: { numContextRequests: 1, numGenRequests: active - 1, numPausedRequests: 2, numScheduledRequests: active, numCtxTokens: 512 },
    kvCacheStats: { maxNumBlocks: 2000, freeNumBlocks: 2000 - used, usedNumBlocks: used, tokensPerBlock: 64, allocTotalBlocks: used, allocNewBlocks: 3, reusedBlocks: reused, missedBlocks: missed, cacheHitRate: reused / (reused + missed) },
  };
}

describe('parseTrtllmPrometheus (trtllm-serve /prometheus/metrics)', () => {
  it('reads load, KV usage and capacity, and prompt-token counters as prefix-cache lookups and hits', () => {
    assert.deepEqual(parseTrtllmPrometheus(PROMETHEUS, 7), {
      at: 7,
      running: 5,
      waiting: 4, // 3 queued + 1 paused
      kvUsage: 0.42,
      prefixQueries: 12_000,
      prefixHits: 8_000,
      preemptions: 0,
      kvCapacityTokens: 32_000,
    });
  });

  it('leaves capacity unset and load at zero when the exporter has nothing yet', () => {
    const s = parseTrtllmPrometheus('# HELP trtllm_num_requests_running Number of active requests\n# TYPE trtllm_num_requests_running gauge\n', 1);
    assert.deepEqual(s, { at: 1, running: 0, waiting: 0, kvUsage: 0, prefixQueries: 0, prefixHits: 0, preemptions: 0 });
  });

  it('ignores vLLM names', () => {
    assert.equal(parseTrtllmPrometheus('vllm:num_requests_running 9\n', 0).running, 0);
  });
});

describe('parseTrtllmIterationStats (trtllm-serve /metrics)', () => {
  it('reads the latest iteration of the list; block counters become tokens', () => {
    const body = JSON.stringify([iteration(10, 9, 9, 100, 1, 1), iteration(11, 6, 3, 500, 30, 10)]);
    assert.deepEqual(parseTrtllmIterationStats(body, 5), {
      at: 5,
      running: 6,
      waiting: 5, // 3 queued + 2 paused
      kvUsage: 0.25,
      prefixQueries: 40 * 64,
      prefixHits: 30 * 64,
      preemptions: 0,
      kvCapacityTokens: 2000 * 64,
    });
  });

  it('accepts iterations sent as JSON strings, as some versions do', () => {
    const body = JSON.stringify([JSON.stringify(iteration(1, 2, 0, 200, 0, 4))]);
    const s = parseTrtllmIterationStats(body, 0);
    assert.equal(s.running, 2);
    assert.equal(s.kvUsage, 0.1);
  });

  it('reads an empty list (no iteration since the last read) as idle, carrying the counters and capacity over', () => {
    const previous = parseTrtllmIterationStats(JSON.stringify([iteration(1, 4, 1, 800, 30, 10)]), 1);
    assert.deepEqual(parseTrtllmIterationStats('[]', 2, previous), {
      at: 2,
      running: 0,
      waiting: 0,
      kvUsage: 0,
      prefixQueries: previous.prefixQueries,
      prefixHits: previous.prefixHits,
      preemptions: 0,
      kvCapacityTokens: 2000 * 64,
    });
    assert.deepEqual(parseTrtllmIterationStats('[]', 3), { at: 3, running: 0, waiting: 0, kvUsage: 0, prefixQueries: 0, prefixHits: 0, preemptions: 0 });
  });

  it('treats missing or malformed fields as zero, and throws on a body that is not JSON', () => {
    const s = parseTrtllmIterationStats(JSON.stringify([{ iter: 1, numActiveRequests: 'many', kvCacheStats: null }]), 0);
    assert.deepEqual(s, { at: 0, running: 0, waiting: 0, kvUsage: 0, prefixQueries: 0, prefixHits: 0, preemptions: 0 });
    assert.throws(() => parseTrtllmIterationStats('vllm:num_requests_running 1\n', 0));
  });
});
