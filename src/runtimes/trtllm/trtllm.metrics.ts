/**
 * TensorRT-LLM's load, as trtllm-serve exports it (tensorrt_llm/serve/openai_server.py and
 * tensorrt_llm/metrics/collector.py in NVIDIA/TensorRT-LLM). Two exporters:
 *
 * - GET /prometheus/metrics: Prometheus text, `trtllm_*` names. Mounted only when the server runs with
 *   `return_perf_metrics: true` (recent releases). Preferred: reading it consumes nothing, so every
 *   gateway replica sees the same values.
 * - GET /metrics: JSON, the list of per-iteration stats the engine produced since the previous read
 *   (the endpoint drains a queue; the PyTorch backend needs `enable_iter_perf_stats: true`). Present in
 *   every trtllm-serve version. The last entry is the current state.
 *
 * Field            Prometheus                                  iteration stats (JSON)
 * running          trtllm_num_requests_running                 numActiveRequests
 * waiting          trtllm_num_requests_waiting                 numQueuedRequests
 *                  + trtllm_num_paused_requests                + inflightBatchingStats.numPausedRequests
 * kvUsage          trtllm_kv_cache_utilization                 kvCacheStats.usedNumBlocks / maxNumBlocks
 * kvCapacityTokens trtllm_kv_cache_max_blocks                  kvCacheStats.maxNumBlocks × tokensPerBlock
 *                  × trtllm_kv_cache_tokens_per_block
 * prefixQueries    trtllm_prompt_tokens_total                  (reusedBlocks + missedBlocks) × tokensPerBlock
 * prefixHits       trtllm_prompt_cached_tokens_total           reusedBlocks × tokensPerBlock
 * preemptions      not exported by TensorRT-LLM: stays 0
 *
 * Caveats, none of them checked against a GPU here:
 * - Paused requests were preempted and wait to resume: they count as waiting, as vLLM puts its
 *   preempted requests back in its waiting queue.
 * - kvUsage is used / max blocks as trtllm-serve computes it; taken as comparable to vLLM's (blocks of
 *   live sequences), which assumes blocks kept only for reuse sit in TensorRT-LLM's free pool.
 * - JSON prefix counters are in whole blocks (a partly reused block counts as reused).
 * - The JSON endpoint is a queue: an empty list means no iteration ran since the previous read, which
 *   is read as idle (the engine iterates while it holds any request). With several gateway replicas
 *   each takes a share of the iterations, and one may read an empty list while the engine is busy:
 *   enable the Prometheus exporter for multi-replica gateways.
 * - Prometheus gauges are set per iteration, so an idle engine keeps reporting its last busy iteration.
 */
import { readPrometheusSnapshot, type SnapshotField } from '../prometheus-text.js';
import type { MetricsSource, RuntimeSnapshot } from '../runtime-adapter.js';

export const TRTLLM_METRIC_NAMES: ReadonlyMap<string, SnapshotField> = new Map<string, SnapshotField>([
  ['trtllm_num_requests_running', 'running'],
  ['trtllm_num_requests_waiting', 'waiting'],
  ['trtllm_kv_cache_utilization', 'kvUsage'],
  ['trtllm_prompt_tokens_total', 'prefixQueries'],
  ['trtllm_prompt_cached_tokens_total', 'prefixHits'],
]);

export function parseTrtllmPrometheus(text: string, at: number): RuntimeSnapshot {
  let paused = 0;
  let maxBlocks: number | undefined;
  let tokensPerBlock: number | undefined;
  const finite = (v: number) => (Number.isFinite(v) ? v : 0);
  const others = new Map<string, (line: string, value: number) => void>([
    ['trtllm_num_paused_requests', (_, v) => (paused += finite(v))],
    ['trtllm_kv_cache_max_blocks', (_, v) => (maxBlocks = (maxBlocks ?? 0) + finite(v))],
    ['trtllm_kv_cache_tokens_per_block', (_, v) => (tokensPerBlock = Number.isFinite(v) && v > 0 ? v : tokensPerBlock)],
  ]);
  const snapshot = readPrometheusSnapshot(text, at, TRTLLM_METRIC_NAMES, others);
  snapshot.waiting += paused;
  if (maxBlocks !== undefined && tokensPerBlock !== undefined) snapshot.kvCapacityTokens = maxBlocks * tokensPerBlock;
  return snapshot;
}

interface IterationStats {
  numActiveRequests?: unknown;
  numQueuedRequests?: unknown;
  inflightBatchingStats?: { numPausedRequests?: unknown } | null;
  kvCacheStats?: { maxNumBlocks?: unknown; usedNumBlocks?: unknown; tokensPerBlock?: unknown; reusedBlocks?: unknown; missedBlocks?: unknown } | null;
}

export function parseTrtllmIterationStats(body: string, at: number, previous?: RuntimeSnapshot): RuntimeSnapshot {
  const parsed: unknown = JSON.parse(body);
  const list = Array.isArray(parsed) ? parsed : [parsed];
  let last: IterationStats | undefined;
  for (let i = list.length - 1; i >= 0 && !last; i--) {
    // Some versions return each iteration as a JSON string rather than an object.
    const entry: unknown = typeof list[i] === 'string' ? JSON.parse(list[i] as string) : list[i];
    if (entry && typeof entry === 'object' && !Array.isArray(entry)) last = entry as IterationStats;
  }
  if (!last) {
    // No iteration since the previous read: idle. Cumulative counters and capacity carry over.
    const idle: RuntimeSnapshot = { at, running: 0, waiting: 0, kvUsage: 0, prefixQueries: previous?.prefixQueries ?? 0, prefixHits: previous?.prefixHits ?? 0, preemptions: previous?.preemptions ?? 0 };
    if (previous?.kvCapacityTokens !== undefined) idle.kvCapacityTokens = previous.kvCapacityTokens;
    return idle;
  }
  const kv = last.kvCacheStats ?? {};
  const maxBlocks = num(kv.maxNumBlocks);
  const tokensPerBlock = num(kv.tokensPerBlock);
  const reused = num(kv.reusedBlocks);
  const missed = num(kv.missedBlocks);
  const snapshot: RuntimeSnapshot = {
    at,
    running: num(last.numActiveRequests),
    waiting: num(last.numQueuedRequests) + num(last.inflightBatchingStats?.numPausedRequests),
    kvUsage: maxBlocks > 0 ? num(kv.usedNumBlocks) / maxBlocks : 0,
    prefixQueries: (reused + missed) * tokensPerBlock,
    prefixHits: reused * tokensPerBlock,
    preemptions: 0,
  };
  if (maxBlocks > 0 && tokensPerBlock > 0) snapshot.kvCapacityTokens = maxBlocks * tokensPerBlock;
  return snapshot;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Prometheus first; a server without `return_perf_metrics` answers 404 there and is read from /metrics. */
export const TRTLLM_METRICS_SOURCES: readonly MetricsSource[] = [
  { path: '/prometheus/metrics', parse: parseTrtllmPrometheus },
  { path: '/metrics', parse: parseTrtllmIterationStats },
];
