/**
 * A runtime adapter says everything that differs between kinds of inference server: where each request
 * goes, what changes in its body and headers, how the server's errors look, where its health check and
 * load metrics are and what the metrics are named. Adapters are data plus transforms; the dispatcher,
 * the SSE relay and the fleet monitor are shared and ask the pod's adapter (`adapterFor(kind)`).
 */
import type { RuntimeKind } from '../config/index.js';
import type { ApiError } from '../errors/index.js';

export type { RuntimeKind };

export type InferenceEndpoint = 'chat.completions' | 'completions' | 'embeddings';

/** What the gateway knows about an upstream request besides its body. */
export interface UpstreamRequestContext {
  requestId: string;
  /** The client's x-sim-fault header (only when SWITCHYARD_SIM_FAULT_INJECTION is on), honoured by the simulator only. */
  faultInjection?: string;
}

/**
 * A runtime's load as last scraped, in the units routing and admission use whatever the runtime calls
 * them. Counters are cumulative since the runtime started (a restart resets them).
 */
export interface RuntimeSnapshot {
  /** Epoch ms of the scrape. */
  at: number;
  running: number;
  waiting: number;
  /** 0–1: KV blocks held by live sequences. */
  kvUsage: number;
  /** Cumulative prefix-cache lookups and hits, in tokens. */
  prefixQueries: number;
  prefixHits: number;
  preemptions: number;
  /** KV-cache capacity in tokens (blocks × block size), when the runtime exports it. */
  kvCapacityTokens?: number;
}

/** One place a runtime exports its load, and how to read it. */
export interface MetricsSource {
  /** GET path on the pod. */
  readonly path: string;
  /**
   * Reads one 200 response body; throws on a body it cannot read. `previous` is the pod's last
   * snapshot, for sources that report only what happened since the last read.
   */
  parse(body: string, at: number, previous?: RuntimeSnapshot): RuntimeSnapshot;
}

export interface RuntimeAdapter {
  readonly kind: RuntimeKind;
  /** Upstream path for an endpoint. */
  path(endpoint: InferenceEndpoint): string;
  /** Headers of an upstream request (content type, request id, runtime-specific extras). */
  upstreamHeaders(ctx: UpstreamRequestContext): Record<string, string>;
  /**
   * Rewrites the client's body for the runtime (served model name, usage always on for streams).
   * `cacheSalt` replaces any client `cache_salt`: the salt routing chose (the organization's prefix
   * cache), or none at all.
   */
  upstreamBody(endpoint: InferenceEndpoint, body: Record<string, unknown>, servedModel: string, cacheSalt?: string): Record<string, unknown>;
  /** Turns a runtime error response (status + parsed body) into our typed error. */
  translateError(status: number, body: unknown): ApiError;
  /** True when a mid-stream SSE payload is an error event rather than a chunk. */
  isStreamError(payload: Record<string, unknown>): boolean;
  /** GET path answering 200 while the server can take requests (the readiness probe). */
  readonly healthPath: string;
  /**
   * Where load metrics are read, in order of preference. The fleet monitor scrapes the first; a 404
   * moves the pod to the next (a runtime whose preferred exporter is switched off).
   */
  readonly metricsSources: readonly MetricsSource[];
}
