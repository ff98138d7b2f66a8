/**
 * The scheduler: one PoolScheduler per pool (created on first use), fed by the fleet monitor's ticks.
 * In-process and per replica: no Redis or database on the admission path. Several replicas each run
 * their own queues; they see each other's load on the pods through the scraped runtime metrics
 * (Pod.foreignLoad), which every budget counts.
 */
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { CLOCK, type Clock } from '../clock/index.js';
import { APP_CONFIG, type AppConfig, type PriorityClass } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { FleetMonitor } from '../fleet/index.js';
import { FleetService } from '../fleet/index.js';
import type { Lease } from './lease.js';
import { createRoutingPolicy } from './placement/pod-scorer.js';
import { PoolScheduler, type PoolSchedulerSettings, type SchedulerObserver } from './pool-scheduler.js';
import { PRIORITY_CLASSES } from './priority.js';
import { SchedulerMetrics } from './scheduler.metrics.js';
import type { Ticket } from './ticket.js';

@Injectable()
export class SchedulerService implements OnApplicationShutdown {
  private readonly pools = new Map<string, PoolScheduler>();
  private readonly coldListeners: Array<(pool: string) => void> = [];
  /** The metrics' hooks, plus the cold-wait notification for the autoscaler. */
  private readonly observer: SchedulerObserver = {
    admitted: (pool, cls, waitedMs) => this.metrics.admitted(pool, cls, waitedMs),
    shed: (pool, cls, reason) => this.metrics.shed(pool, cls, reason),
    placed: (pool, matched, prompt) => this.metrics.placed(pool, matched, prompt),
    coldWait: (pool) => {
      for (const listener of this.coldListeners) listener(pool);
    },
  };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly fleet: FleetService,
    monitor: FleetMonitor,
    private readonly metrics: SchedulerMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    monitor.onTick(() => this.pumpAll());
    metrics.watch(() => this.pools.values());
  }

  pool(name: string): PoolScheduler {
    let pool = this.pools.get(name);
    if (!pool) {
      const s = this.config.scheduling;
      pool = new PoolScheduler(
        name,
        () => this.fleet.podsOf(name),
        createRoutingPolicy(s.policy, s.boundedLoadFactor),
        {
          maxInFlightPerPod: s.maxInFlightPerPod,
          prefillBudgetTokens: s.prefillBudgetTokens,
          prefillStallMs: s.prefillStallMs,
          kvHighWatermark: s.kvHighWatermark,
          staleAfterMs: 3 * s.fleet.scrapeIntervalMs,
          maxQueuedPerPool: s.maxQueuedPerPool,
          maxQueuedPerOrg: s.maxQueuedPerOrg,
          queueTimeoutMs: s.queueTimeoutMs,
          affinityEntries: s.prefix.affinityEntriesPerPool,
          prefixBlockChars: s.prefix.blockChars,
          waitingRoom: this.waitingRoomOf(name),
        },
        this.clock,
        this.observer,
      );
      this.pools.set(name, pool);
    }
    return pool;
  }

  /** Waits for a pod of `pool` with headroom; see PoolScheduler.admit. */
  admit(pool: string, ticket: Ticket, signal?: AbortSignal): Promise<Lease> {
    return this.pool(pool).admit(ticket, signal);
  }

  isDown(pool: string): boolean {
    return this.pool(pool).isDown();
  }

  /** Requests of this replica waiting in the pool's queue (the admin API's queue depth). */
  queued(pool: string): number {
    return this.pools.get(pool)?.queued() ?? 0;
  }

  /** This replica's waiting requests of the pool per class (the autoscaler's demand signal). */
  queuedByClass(pool: string): Record<PriorityClass, number> {
    const p = this.pools.get(pool);
    return Object.fromEntries(PRIORITY_CLASSES.map((c) => [c, p?.queued(c) ?? 0])) as Record<PriorityClass, number>;
  }

  /** p90 of the pool's stream TTFTs on this replica since the last call (PoolScheduler.takeTtftP90). */
  takeTtftP90(pool: string): number | null {
    return this.pools.get(pool)?.takeTtftP90() ?? null;
  }

  /** The pool has a waiting room and no Ready pod: requests wait for its first pod (PoolScheduler.isCold). */
  isCold(pool: string): boolean {
    return this.pool(pool).isCold();
  }

  /** Called when a request starts waiting for a cold pool (the autoscaler scales it at once). */
  onColdWait(listener: (pool: string) => void): void {
    this.coldListeners.push(listener);
  }

  private waitingRoomOf(pool: string): PoolSchedulerSettings['waitingRoom'] {
    const autoscaling = this.config.catalogue.pools.find((p) => p.name === pool)?.autoscaling;
    return autoscaling ? { coldStartRetryAfterS: Math.ceil(autoscaling.podStartupMs / 1000) } : undefined;
  }

  isSaturated(pool: string): boolean {
    return this.pool(pool).isSaturated();
  }

  /** Fleet tick: budgets may have changed (new scrape, breaker half-open), affinity sized to the caches. */
  pumpAll(): void {
    for (const pool of this.pools.values()) pool.refresh();
    for (const pool of this.pools.values()) pool.pump();
  }

  /** Requests still queued when the process stops get a clean 503 rather than a cut connection. */
  onApplicationShutdown(): void {
    const err = new ApiError(ErrorCode.ShuttingDown, 'This server is shutting down; retry on another replica.', null, { 'retry-after': '1' });
    for (const pool of this.pools.values()) pool.rejectAll(err);
  }
}
