/**
 * Reads a runtime's Prometheus /metrics text into the few numbers routing and admission use. Names are
 * vLLM V1's (the simulator exports the same); the pre-V1 names (`gpu_cache_usage_perc`,
 * `gpu_prefix_cache_*`) are accepted as aliases. A value reported under several label sets (several
 * engines of one server) is summed, except KV usage, which is averaged.
 *
 * The parser only looks at sample lines whose metric name it wants, so a 40 kB exposition with
 * histograms costs ~0.1 ms.
 */

export interface RuntimeSnapshot {
  /** Epoch ms of the scrape. */
  at: number;
  running: number;
  waiting: number;
  /** 0–1: KV blocks held by live sequences (vLLM counts evictable cached blocks as free). */
  kvUsage: number;
  /** Cumulative prefix-cache lookups and hits, in tokens. */
  prefixQueries: number;
  prefixHits: number;
  preemptions: number;
  /** num_gpu_blocks × block_size from `vllm:cache_config_info`, when exported. */
  kvCapacityTokens?: number;
}

type Field = 'running' | 'waiting' | 'kvUsage' | 'prefixQueries' | 'prefixHits' | 'preemptions';

/** Metric name → field, for runtimes that speak vLLM's names (`vllm`, `sim`). */
export const VLLM_METRIC_NAMES: ReadonlyMap<string, Field> = new Map<string, Field>([
  ['vllm:num_requests_running', 'running'],
  ['vllm:num_requests_waiting', 'waiting'],
  ['vllm:kv_cache_usage_perc', 'kvUsage'],
  ['vllm:gpu_cache_usage_perc', 'kvUsage'],
  ['vllm:prefix_cache_queries_total', 'prefixQueries'],
  ['vllm:gpu_prefix_cache_queries_total', 'prefixQueries'],
  ['vllm:prefix_cache_hits_total', 'prefixHits'],
  ['vllm:gpu_prefix_cache_hits_total', 'prefixHits'],
  ['vllm:num_preemptions_total', 'preemptions'],
]);

const CACHE_CONFIG = 'vllm:cache_config_info';

export function parseRuntimeMetrics(text: string, at: number, names: ReadonlyMap<string, Field> = VLLM_METRIC_NAMES): RuntimeSnapshot {
  const snapshot: RuntimeSnapshot = { at, running: 0, waiting: 0, kvUsage: 0, prefixQueries: 0, prefixHits: 0, preemptions: 0 };
  let kvSamples = 0;
  // Some vLLM versions export a deprecated name next to its replacement: the first name seen wins.
  const source = new Map<Field, string>();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const first = text.charCodeAt(start);
    // Skip blank lines, comments (#) and anything not starting with a metric name we could want ('v').
    if (end > start && first !== 35 /* # */) {
      const line = text.slice(start, end);
      const brace = line.indexOf('{');
      const space = line.indexOf(' ');
      const nameEnd = brace !== -1 && (space === -1 || brace < space) ? brace : space;
      if (nameEnd > 0) {
        const name = line.slice(0, nameEnd);
        const field = names.get(name);
        if (field !== undefined && (source.get(field) ?? name) === name) {
          source.set(field, name);
          const value = Number(line.slice(line.lastIndexOf(' ') + 1));
          if (Number.isFinite(value)) {
            if (field === 'kvUsage') kvSamples++;
            snapshot[field] += value;
          }
        } else if (name === CACHE_CONFIG) {
          const blocks = labelValue(line, 'num_gpu_blocks');
          const blockSize = labelValue(line, 'block_size');
          if (blocks !== undefined && blockSize !== undefined) snapshot.kvCapacityTokens = (snapshot.kvCapacityTokens ?? 0) + blocks * blockSize;
        }
      }
    }
    start = end + 1;
  }
  if (kvSamples > 1) snapshot.kvUsage /= kvSamples;
  return snapshot;
}

function labelValue(line: string, label: string): number | undefined {
  const key = `${label}="`;
  const i = line.indexOf(key);
  if (i === -1) return undefined;
  const value = Number(line.slice(i + key.length, line.indexOf('"', i + key.length)));
  return Number.isFinite(value) ? value : undefined;
}
