/**
 * vLLM's Prometheus /metrics, read into a RuntimeSnapshot. Names are vLLM V1's (runtimes/sim exports the
 * same); the pre-V1 names (`gpu_cache_usage_perc`, `gpu_prefix_cache_*`) are accepted as aliases.
 * Several engines of one server (data parallel) are summed, their KV usage averaged.
 */
import { labelValue, readPrometheusSnapshot, type SnapshotField } from '../prometheus-text.js';
import type { RuntimeSnapshot } from '../runtime-adapter.js';

/** Metric name → snapshot field. */
export const VLLM_METRIC_NAMES: ReadonlyMap<string, SnapshotField> = new Map<string, SnapshotField>([
  ['vllm:num_requests_running', 'running'],
  ['vllm:num_requests_waiting', 'waiting'],
  // Blocks held by running sequences; vLLM counts evictable prefix-cache blocks as free.
  ['vllm:kv_cache_usage_perc', 'kvUsage'],
  ['vllm:gpu_cache_usage_perc', 'kvUsage'],
  ['vllm:prefix_cache_queries_total', 'prefixQueries'],
  ['vllm:gpu_prefix_cache_queries_total', 'prefixQueries'],
  ['vllm:prefix_cache_hits_total', 'prefixHits'],
  ['vllm:gpu_prefix_cache_hits_total', 'prefixHits'],
  ['vllm:num_preemptions_total', 'preemptions'],
]);

/** Info gauge whose labels carry num_gpu_blocks and block_size. */
const CACHE_CONFIG = 'vllm:cache_config_info';

export function parseVllmMetrics(text: string, at: number): RuntimeSnapshot {
  let capacity: number | undefined;
  const others = new Map([
    [
      CACHE_CONFIG,
      (line: string) => {
        const blocks = labelValue(line, 'num_gpu_blocks');
        const blockSize = labelValue(line, 'block_size');
        if (blocks !== undefined && blockSize !== undefined) capacity = (capacity ?? 0) + blocks * blockSize;
      },
    ],
  ]);
  const snapshot = readPrometheusSnapshot(text, at, VLLM_METRIC_NAMES, others);
  if (capacity !== undefined) snapshot.kvCapacityTokens = capacity;
  return snapshot;
}
