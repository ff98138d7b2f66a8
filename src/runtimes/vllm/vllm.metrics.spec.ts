import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseVllmMetrics } from './vllm.metrics.js';

const VLLM = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="m",engine="0"} 7
vllm:num_requests_waiting{model_name="m",engine="0"} 2
vllm:kv_cache_usage_perc{model_name="m",engine="0"} 0.25
vllm:prefix_cache_queries_total{model_name="m",engine="0"} 1200
vllm:prefix_cache_hits_total{model_name="m",engine="0"} 900
vllm:num_preemptions_total{model_name="m",engine="0"} 3
vllm:time_to_first_token_seconds_bucket{le="0.001",model_name="m",engine="0"} 0
vllm:cache_config_info{block_size="16",cache_dtype="auto",num_gpu_blocks="26306",engine="0"} 1
`;

describe('parseVllmMetrics (vLLM /metrics)', () => {
  it('reads load, KV usage, prefix-cache counters and KV capacity', () => {
    const s = parseVllmMetrics(VLLM, 123);
    assert.deepEqual(s, { at: 123, running: 7, waiting: 2, kvUsage: 0.25, prefixQueries: 1200, prefixHits: 900, preemptions: 3, kvCapacityTokens: 26306 * 16 });
  });

  it('sums engines (data parallel) and averages their KV usage', () => {
    const text = 'vllm:num_requests_running{engine="0"} 3\nvllm:num_requests_running{engine="1"} 4\nvllm:kv_cache_usage_perc{engine="0"} 0.2\nvllm:kv_cache_usage_perc{engine="1"} 0.6\n';
    const s = parseVllmMetrics(text, 0);
    assert.equal(s.running, 7);
    assert.ok(Math.abs(s.kvUsage - 0.4) < 1e-9);
  });

  it('accepts pre-V1 names, and does not double count when both names are exported', () => {
    const old = parseVllmMetrics('vllm:gpu_cache_usage_perc{x="y"} 0.5\nvllm:gpu_prefix_cache_hits_total 10\n', 0);
    assert.equal(old.kvUsage, 0.5);
    assert.equal(old.prefixHits, 10);
    const both = parseVllmMetrics('vllm:kv_cache_usage_perc{e="0"} 0.3\nvllm:gpu_cache_usage_perc{e="0"} 0.3\n', 0);
    assert.equal(both.kvUsage, 0.3);
  });

  it('ignores junk', () => {
    const s = parseVllmMetrics('\n\nvllm:num_requests_running{a="b"} NaN\nnonsense\nvllm:num_requests_waiting 1e1\n', 0);
    assert.equal(s.running, 0);
    assert.equal(s.waiting, 10);
  });
});

describe('forEachSample (Prometheus text)', () => {
  it('reads the value before an optional timestamp, and label values containing spaces', () => {
    const s = parseVllmMetrics('vllm:num_requests_running{model_name="a b"} 4 1712000000000\nvllm:num_requests_waiting 2 1712000000000\n', 0);
    assert.equal(s.running, 4);
    assert.equal(s.waiting, 2);
  });
});
