/**
 * The autoscaler on our /metrics: per autoscaled pool, the replica counts it saw and the one it wants,
 * the demand figures that drove the last decision, and decisions by reason. Written by the leader
 * only (the other replicas export nothing for these pools but `switchyard_autoscaler_leader 0`).
 */
import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../observability/index.js';

@Injectable()
export class AutoscalerMetrics {
  readonly leader: Gauge;
  readonly replicas: Gauge<'pool' | 'kind'>;
  readonly signal: Gauge<'pool' | 'signal'>;
  readonly decisions: Counter<'pool' | 'reason'>;
  readonly evaluations: Counter<'pool' | 'reason'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.leader = new Gauge({ name: 'switchyard_autoscaler_leader', help: 'Whether this replica holds the autoscaler lease (1) or not (0).', registers });
    this.replicas = new Gauge({
      name: 'switchyard_autoscaler_replicas',
      help: 'Replica counts of an autoscaled pool at the last decision, by kind: desired (what the autoscaler wants), current (spec.replicas), ready.',
      labelNames: ['pool', 'kind'] as const,
      registers,
    });
    this.signal = new Gauge({
      name: 'switchyard_autoscaler_signal',
      help: 'The signal values behind the last decision: live_demand, projected_demand, batch_demand (requests), waiting_interactive, waiting_flex, waiting_batch, in_flight, runtime_running, runtime_waiting, kv_usage, ttft_p90_ms, recommended, stabilized (replicas), gateways (replicas reporting).',
      labelNames: ['pool', 'signal'] as const,
      registers,
    });
    this.decisions = new Counter({
      name: 'switchyard_autoscaler_scale_events_total',
      help: 'Replica count changes written by the autoscaler, by pool and reason.',
      labelNames: ['pool', 'reason'] as const,
      registers,
    });
    this.evaluations = new Counter({
      name: 'switchyard_autoscaler_decisions_total',
      help: 'Decisions taken by the leader, changes and holds, by pool and reason (paused, steady, stabilizing, cooldown, interval, or the reason of a change).',
      labelNames: ['pool', 'reason'] as const,
      registers,
    });
  }
}
