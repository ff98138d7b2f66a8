/**
 * The autoscaler loop (docs/architecture.md, "Autoscaling"). Every replica, every interval, publishes
 * its demand for each autoscaled pool to Redis (DemandBoard); the replica holding the leader lease
 * (LeaderLock) then gathers each pool's signals — the demand summed over the replicas, the pods' scraped
 * load, the workload's replica counts — runs the decision function and writes a changed count through
 * the fleet (Kubernetes: the Deployment's scale subresource). The others keep serving and publishing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { CLOCK, type Clock, type TimerHandle } from '../clock/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { FleetService } from '../fleet/index.js';
import { LOGGER } from '../observability/index.js';
import { RedisService } from '../redis/index.js';
import { SchedulerService } from '../scheduler/index.js';
import { AutoscalerMetrics } from './autoscaler.metrics.js';
import { DemandBoard, type ReplicaDemand } from './demand-board.js';
import { LeaderLock } from './leader-lock.js';
import { decideScale, initialScalingState, scalingPolicyOf, type PoolSignals, type ScalingPolicy, type ScalingState } from './scaling-policy.js';

const PREFIX = 'switchyard:autoscaler';

interface PoolEntry {
  policy: ScalingPolicy;
  state: ScalingState;
  /** This replica's TTFT p90 of the last interval, published with its demand. */
}

@Injectable()
export class AutoscalerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly pools = new Map<string, PoolEntry>();
  private readonly replicaId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly board: DemandBoard;
  private readonly lock: LeaderLock;
  private timer: TimerHandle | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private nudged = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
    redis: RedisService,
    private readonly fleet: FleetService,
    private readonly scheduler: SchedulerService,
    private readonly metrics: AutoscalerMetrics,
  ) {
    this.logger = logger.child({ component: 'autoscaler' });
    for (const pool of config.catalogue.pools) {
      if (pool.autoscaling) this.pools.set(pool.name, { policy: scalingPolicyOf(pool.autoscaling), state: initialScalingState() });
    }
    this.board = new DemandBoard(redis.client, PREFIX);
    // Replicas elect per set of autoscaled pools: those with the same catalogue share one leader; a
    // gateway with other pools on the same Redis (another deployment, a test) elects its own.
    const pools = createHash('sha256').update([...this.pools.keys()].sort().join('\n')).digest('hex').slice(0, 12);
    this.lock = new LeaderLock(redis.client, clock, this.logger, { prefix: `${PREFIX}:${pools}`, holderId: this.replicaId, ttlMs: config.autoscaler.leaseMs });
    // A request waiting for a pool at zero: decide now rather than at the next interval.
    scheduler.onColdWait(() => this.nudge());
    this.lock.onChange((leader, token) => {
      this.metrics.leader.set(leader ? 1 : 0);
      // A new tenure starts from fresh state: the previous leader's windows are not known here.
      if (leader) for (const entry of this.pools.values()) entry.state = initialScalingState();
      this.logger.info({ leader, token, replica: this.replicaId }, leader ? 'this replica now runs the autoscaler' : 'this replica no longer runs the autoscaler');
    });
  }

  onApplicationBootstrap(): void {
    if (this.pools.size === 0) return;
    this.running = true;
    this.lock.start();
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    await this.ticking;
    await this.lock.stop();
  }

  /** Whether this replica holds the lease now (tests, the admin view). */
  isLeader(): boolean {
    return this.lock.isLeader();
  }

  private schedule(delayMs = this.config.autoscaler.intervalMs): void {
    if (!this.running) return;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.nudged = false;
        this.ticking = this.tick().finally(() => {
          this.ticking = undefined;
          this.schedule(this.nudged ? 0 : undefined);
        });
      },
      delayMs,
      { unref: true },
    );
  }

  /**
   * Runs the next tick at once (after the one under way, if any). On a follower this publishes the
   * cold pool's demand at once; the leader sees it at its next tick (at most one interval later).
   */
  private nudge(): void {
    if (!this.running) return;
    if (this.ticking) this.nudged = true;
    else this.schedule(0);
  }

  /** One interval: publish this replica's demand; as leader, decide every autoscaled pool. */
  async tick(): Promise<void> {
    const interval = this.config.autoscaler.intervalMs;
    const maxAgeMs = 3 * interval;
    try {
      await this.board.publish(this.replicaId, this.localDemand(), this.clock.wallNow(), maxAgeMs);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'publishing demand to Redis failed');
    }
    if (!this.lock.isLeader()) return;
    for (const [pool, entry] of this.pools) {
      try {
        await this.decide(pool, entry, maxAgeMs);
      } catch (err) {
        this.logger.warn({ pool, err: (err as Error).message }, 'autoscaler decision failed; the count is left as it is');
      }
    }
  }

  private localDemand(): Map<string, ReplicaDemand & { ttftP90Ms: number | null }> {
    const out = new Map<string, ReplicaDemand & { ttftP90Ms: number | null }>();
    for (const pool of this.pools.keys()) {
      const queued = this.scheduler.queuedByClass(pool);
      const inFlight = this.fleet.podsOf(pool).reduce((sum, p) => sum + p.inFlight, 0);
      out.set(pool, { interactive: queued.interactive, flex: queued.flex, batch: queued.batch, inFlight, ttftP90Ms: this.scheduler.takeTtftP90(pool) });
    }
    return out;
  }

  private async decide(pool: string, entry: PoolEntry, maxAgeMs: number): Promise<void> {
    const [status] = await this.fleet.describe(pool);
    const replicas = status?.replicas;
    if (!replicas) {
      this.logger.warn({ pool }, 'autoscaled pool has no replica count (no workload to scale); skipped');
      return;
    }
    const demand = await this.board.total(pool, this.clock.wallNow(), maxAgeMs);
    const now = Date.now();
    const scraped = this.fleet.podsOf(pool).flatMap((p) => p.freshRuntime(now, 3 * this.config.scheduling.fleet.scrapeIntervalMs) ?? []);
    const signals: PoolSignals = {
      currentReplicas: replicas.desired,
      readyReplicas: replicas.ready,
      waitingInteractive: demand.interactive,
      waitingFlex: demand.flex,
      waitingBatch: demand.batch,
      inFlight: demand.inFlight,
      inFlightBatch: 0,
      runtimeRunning: scraped.length ? scraped.reduce((s, r) => s + r.running, 0) : null,
      runtimeWaiting: scraped.length ? scraped.reduce((s, r) => s + r.waiting, 0) : null,
      kvUsage: scraped.length ? scraped.reduce((s, r) => s + r.kvUsage, 0) / scraped.length : null,
      ttftP90Ms: demand.ttftP90Ms,
      quotaRefused: 0,
    };
    const paused = replicas.autoscalingPaused === true;
    const d = decideScale(entry.policy, entry.state, signals, this.clock.now(), this.config.autoscaler.intervalMs, paused);
    const figures = {
      live_demand: d.liveDemand,
      projected_demand: d.projectedDemand,
      batch_demand: d.batchDemand,
      waiting_interactive: signals.waitingInteractive,
      waiting_flex: signals.waitingFlex,
      waiting_batch: signals.waitingBatch,
      in_flight: signals.inFlight,
      runtime_running: signals.runtimeRunning ?? 0,
      runtime_waiting: signals.runtimeWaiting ?? 0,
      kv_usage: signals.kvUsage ?? 0,
      ttft_p90_ms: signals.ttftP90Ms ?? 0,
      recommended: d.recommended,
      stabilized: d.stabilized,
      gateways: demand.replicas,
    };
    for (const [name, value] of Object.entries(figures)) this.metrics.signal.set({ pool, signal: name }, value);
    this.metrics.replicas.set({ pool, kind: 'desired' }, d.desired);
    this.metrics.replicas.set({ pool, kind: 'current' }, replicas.desired);
    this.metrics.replicas.set({ pool, kind: 'ready' }, replicas.ready);

    this.metrics.evaluations.inc({ pool, reason: d.reason });
    if (d.desired === replicas.desired) {
      entry.state = d.state;
      this.logger.debug({ pool, replicas: replicas.desired, reason: d.reason, ...figures }, 'autoscaler holds');
      return;
    }
    if (!(await this.lock.stillHolds())) return;
    await this.fleet.scale(pool, d.desired);
    entry.state = d.state;
    this.metrics.decisions.inc({ pool, reason: d.reason });
    this.logger.info({ pool, from: replicas.desired, to: d.desired, ready: replicas.ready, reason: d.reason, fencingToken: this.lock.fencingToken(), ...figures }, 'autoscaler scaled pool');
  }
}
