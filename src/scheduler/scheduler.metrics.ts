/** Scheduler and routing metrics. Labels are closed sets: pool and model names from the catalogue. */
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { PriorityClass } from '../config/index.js';
import { MetricsService } from '../observability/index.js';
import type { PoolScheduler, SchedulerObserver } from './pool-scheduler.js';
import { PRIORITY_CLASSES } from './priority.js';
import type { ShedReason } from './scheduler.errors.js';

const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

@Injectable()
export class SchedulerMetrics implements SchedulerObserver {
  private readonly wait: Histogram<'pool' | 'class'>;
  private readonly shedTotal: Counter<'pool' | 'class' | 'reason'>;
  private readonly prefixTokens: Counter<'pool' | 'kind'>;
  readonly fallbacks: Counter<'from' | 'to' | 'reason'>;
  private pools: () => Iterable<PoolScheduler> = () => [];

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    const self = this;
    new Gauge({
      name: 'switchyard_scheduler_queued',
      help: 'Requests waiting in the gateway for a pod with headroom, by pool and priority class (retry: re-admissions after a pod failed).',
      labelNames: ['pool', 'class'] as const,
      registers,
      collect() {
        this.reset();
        for (const pool of self.pools()) {
          for (const cls of PRIORITY_CLASSES) this.set({ pool: pool.name, class: cls }, pool.queued(cls));
          this.set({ pool: pool.name, class: 'retry' }, pool.queued() - PRIORITY_CLASSES.reduce((n, c) => n + pool.queued(c), 0));
        }
      },
    });
    new Gauge({
      name: 'switchyard_routing_prefix_hit_ratio',
      help: "Share of the prefix-affinity table's recent matches that the runtimes' prefix caches confirmed (usage cached_tokens), by pool; the admission budget counts matches at this share.",
      labelNames: ['pool'] as const,
      registers,
      collect() {
        this.reset();
        for (const pool of self.pools()) this.set({ pool: pool.name }, pool.hitRatio);
      },
    });
    this.wait = new Histogram({
      name: 'switchyard_scheduler_queue_wait_seconds',
      help: 'Time from arrival at the scheduler to admission on a pod, by pool and priority class.',
      labelNames: ['pool', 'class'] as const,
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.shedTotal = new Counter({
      name: 'switchyard_scheduler_shed_total',
      help: 'Requests refused by the scheduler (no_pod, queue_full, org_queue_full, deadline), by pool and class.',
      labelNames: ['pool', 'class', 'reason'] as const,
      registers,
    });
    this.prefixTokens = new Counter({
      name: 'switchyard_routing_prefix_tokens_total',
      help: 'Prompt tokens of admitted requests (kind=prompt) and the part expected in the chosen pod\'s prefix cache (kind=matched).',
      labelNames: ['pool', 'kind'] as const,
      registers,
    });
    this.fallbacks = new Counter({
      name: 'switchyard_routing_fallbacks_total',
      help: 'Requests served by a fallback model, by requested model, serving model and reason (pool_unavailable, saturated, upstream_failed).',
      labelNames: ['from', 'to', 'reason'] as const,
      registers,
    });
  }

  watch(pools: () => Iterable<PoolScheduler>): void {
    this.pools = pools;
  }

  admitted(pool: string, cls: PriorityClass, waitedMs: number): void {
    this.wait.observe({ pool, class: cls }, waitedMs / 1000);
  }

  shed(pool: string, cls: PriorityClass, reason: ShedReason): void {
    this.shedTotal.inc({ pool, class: cls, reason });
  }

  placed(pool: string, matchedTokens: number, promptTokens: number): void {
    this.prefixTokens.inc({ pool, kind: 'prompt' }, promptTokens);
    if (matchedTokens > 0) this.prefixTokens.inc({ pool, kind: 'matched' }, matchedTokens);
  }
}
