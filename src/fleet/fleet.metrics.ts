/**
 * The fleet on our /metrics: each pod's runtime load as last scraped (whatever the runtime calls it —
 * vllm:*, trtllm_* — under our names), our own in-flight count and its breaker state, and per-pool
 * sums. Gauges are computed when /metrics is read (no work per request); counters advance on each
 * scrape by the runtime's deltas (a runtime restart resets its counters: the new value is the delta).
 *
 * `pod` labels are pod ids: bounded by the pools' replica counts, and removed with the pod.
 */
import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../observability/index.js';
import type { Pod } from './pod.js';
import type { RuntimeSnapshot } from '../runtimes/index.js';

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

@Injectable()
export class FleetMetrics {
  readonly ejections: Counter<'pool'>;
  private readonly prefixQueries: Counter<'pool'>;
  private readonly prefixHits: Counter<'pool'>;
  private readonly preemptions: Counter<'pool'>;
  private readonly scrapeErrors: Counter<'pool'>;
  private pods: () => readonly Pod[] = () => [];
  /** Scrapes older than this are not exported as current. */
  private staleAfterMs = 3_000;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    const self = this;
    const fresh = (pod: Pod) => pod.freshRuntime(Date.now(), self.staleAfterMs);

    new Gauge({
      name: 'switchyard_pod_runtime_requests',
      help: "Requests on a pod as its runtime last reported them (vllm:num_requests_running / _waiting), by state.",
      labelNames: ['pool', 'pod', 'state'] as const,
      registers,
      collect() {
        this.reset();
        for (const pod of self.pods()) {
          const rt = fresh(pod);
          if (!rt) continue;
          this.set({ pool: pod.pool, pod: pod.id, state: 'running' }, rt.running);
          this.set({ pool: pod.pool, pod: pod.id, state: 'waiting' }, rt.waiting);
        }
      },
    });
    new Gauge({
      name: 'switchyard_pod_kv_cache_usage_ratio',
      help: "KV-cache usage of a pod's runtime, 0–1 (vllm:kv_cache_usage_perc), as last scraped.",
      labelNames: ['pool', 'pod'] as const,
      registers,
      collect() {
        this.reset();
        for (const pod of self.pods()) {
          const rt = fresh(pod);
          if (rt) this.set({ pool: pod.pool, pod: pod.id }, rt.kvUsage);
        }
      },
    });
    new Gauge({
      name: 'switchyard_pod_in_flight',
      help: 'Requests this gateway has dispatched to a pod and not finished, by phase (prefill: before the first token).',
      labelNames: ['pool', 'pod', 'phase'] as const,
      registers,
      collect() {
        this.reset();
        for (const pod of self.pods()) {
          this.set({ pool: pod.pool, pod: pod.id, phase: 'prefill' }, pod.prefilling);
          this.set({ pool: pod.pool, pod: pod.id, phase: 'decode' }, pod.inFlight - pod.prefilling);
        }
      },
    });
    new Gauge({
      name: 'switchyard_pod_breaker_state',
      help: "A pod's circuit breaker: 0 closed (in rotation), 1 half-open (one trial request), 2 open (ejected).",
      labelNames: ['pool', 'pod'] as const,
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const pod of self.pods()) this.set({ pool: pod.pool, pod: pod.id }, BREAKER_VALUE[pod.breaker.state(now)]);
      },
    });
    new Gauge({
      name: 'switchyard_pool_runtime_requests',
      help: 'Requests on a pool as its runtimes last reported them (sum over pods), by state.',
      labelNames: ['pool', 'state'] as const,
      registers,
      collect() {
        this.reset();
        const sums = new Map<string, { running: number; waiting: number }>();
        for (const pod of self.pods()) {
          const rt = fresh(pod);
          if (!rt) continue;
          const sum = sums.get(pod.pool) ?? { running: 0, waiting: 0 };
          sum.running += rt.running;
          sum.waiting += rt.waiting;
          sums.set(pod.pool, sum);
        }
        for (const [pool, sum] of sums) {
          this.set({ pool, state: 'running' }, sum.running);
          this.set({ pool, state: 'waiting' }, sum.waiting);
        }
      },
    });
    new Gauge({
      name: 'switchyard_pool_kv_cache_usage_ratio',
      help: 'Mean KV-cache usage over the pods of a pool, 0–1, as last scraped.',
      labelNames: ['pool'] as const,
      registers,
      collect() {
        this.reset();
        const sums = new Map<string, { total: number; n: number }>();
        for (const pod of self.pods()) {
          const rt = fresh(pod);
          if (!rt) continue;
          const sum = sums.get(pod.pool) ?? { total: 0, n: 0 };
          sum.total += rt.kvUsage;
          sum.n++;
          sums.set(pod.pool, sum);
        }
        for (const [pool, sum] of sums) this.set({ pool }, sum.total / sum.n);
      },
    });
    this.prefixQueries = new Counter({
      name: 'switchyard_pool_prefix_cache_queries_total',
      help: "Prompt tokens looked up in the pool's prefix caches (sum of vllm:prefix_cache_queries_total deltas).",
      labelNames: ['pool'] as const,
      registers,
    });
    this.prefixHits = new Counter({
      name: 'switchyard_pool_prefix_cache_hits_total',
      help: "Prompt tokens found in the pool's prefix caches (sum of vllm:prefix_cache_hits_total deltas).",
      labelNames: ['pool'] as const,
      registers,
    });
    this.preemptions = new Counter({
      name: 'switchyard_pool_preemptions_total',
      help: "Sequences preempted by the pool's runtimes (KV cache full), sum of vllm:num_preemptions_total deltas.",
      labelNames: ['pool'] as const,
      registers,
    });
    this.scrapeErrors = new Counter({
      name: 'switchyard_pod_scrape_errors_total',
      help: 'Failed scrapes of runtime /metrics, by pool.',
      labelNames: ['pool'] as const,
      registers,
    });
    this.ejections = new Counter({
      name: 'switchyard_pod_ejections_total',
      help: 'Pods taken out of rotation by their circuit breaker, by pool.',
      labelNames: ['pool'] as const,
      registers,
    });
  }

  /** Where the gauges read pods from (the fleet), and how old a scrape may be to count as current. */
  watch(pods: () => readonly Pod[], staleAfterMs: number): void {
    this.pods = pods;
    this.staleAfterMs = staleAfterMs;
  }

  scraped(pod: Pod, previous: RuntimeSnapshot | undefined): void {
    const now = pod.runtime!;
    const delta = (a: number, b: number | undefined) => (b === undefined ? 0 : a >= b ? a - b : a);
    this.prefixQueries.inc({ pool: pod.pool }, delta(now.prefixQueries, previous?.prefixQueries));
    this.prefixHits.inc({ pool: pod.pool }, delta(now.prefixHits, previous?.prefixHits));
    this.preemptions.inc({ pool: pod.pool }, delta(now.preemptions, previous?.preemptions));
  }

  scrapeFailed(pod: Pod): void {
    this.scrapeErrors.inc({ pool: pod.pool });
  }
}
