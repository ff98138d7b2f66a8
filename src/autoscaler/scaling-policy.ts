/**
 * The autoscaler's decision for one pool at one tick, as a pure function: (policy, state, signals, now)
 * → (desired replicas, the reason, the next state). No clock, no IO: the loop (autoscaler.service.ts)
 * gathers the signals, calls this, and writes the result to the fleet; the spec drives it on virtual time.
 *
 * The rules, in the order they apply (docs/architecture.md, "Autoscaling"):
 *
 * 1. Demand in requests: live = max(in flight at the gateways, running + waiting on the pods) + waiting
 *    in the gateways' interactive and flex queues. The queues hold only requests quota admitted (the
 *    quota stage runs before the scheduler), so demand quota refused never reaches this sum.
 * 2. Raw recommendation = ceil(live / targetInFlightPerPod), plus batch demand only up to
 *    batchMaxReplicas (batch may fill idle capacity, but does not buy pods past that ceiling).
 * 3. Look-ahead: while live demand rises, it is projected over the pod start-up time, so pods are
 *    asked for before the queue shows they were needed. The slope is the smaller of the rises over the
 *    two halves of the trend window: a ramp is projected, a single step (both halves must rise) is not;
 *    a projected rise under half a pod's worth or inside the tolerance band is ignored as noise.
 * 4. Pressure: TTFT p90 above the objective while requests wait, or KV-cache usage above its threshold,
 *    asks for at least one pod more than now.
 * 5. Tolerance: demand within ±tolerance of what the current count serves is no change.
 * 6. Stabilization (Kubernetes HPA's): scale up to the lowest, down to the highest recommendation seen
 *    in the respective window — down slowly, up fast (the default up window is 0).
 * 7. Floor and ceiling: max(minReplicas, 1 while the pool had demand within idleToZeroMs, 1 when
 *    anything waits) .. maxReplicas. Zero only after idleToZeroMs without demand (opt-in); that step
 *    skips the down window and step limits (the idle period already was the wait). A count outside
 *    the floor..max range (an operator's, a changed catalogue) is brought back at once.
 * 8. Rate: one change per interval; up by at most maxStepPods per scale-up period, down by at most
 *    maxStepPods per scale-down period, and no scale-down within cooldownMs of the last scale-up.
 */

import type { AutoscalingConfig } from '../config/index.js';

export interface ScalingPolicy {
  minReplicas: number;
  maxReplicas: number;
  /** Requests in flight per pod at which the pod still meets the latency objective. */
  targetInFlightPerPod: number;
  /** TTFT p90 objective, ms. */
  ttftP90ObjectiveMs: number;
  /** KV-cache usage (0..1, pool mean) above which the pool is under pressure. */
  kvUsageHigh: number;
  /** Expected time from a scale-up to a Ready pod (model load), ms: the look-ahead horizon. */
  podStartupMs: number;
  /** The most replicas batch-class demand alone may ask for. */
  batchMaxReplicas: number;
  /** Opt-in scale-to-zero: without demand for this long, the pool goes to minReplicas (0). Null: never below 1. */
  idleToZeroMs: number | null;
  /** Relative band around the current count inside which a recommendation is no change (0.1 = ±10 %). */
  tolerance: number;
  /** How far back the demand trend for the look-ahead is measured, ms. */
  trendWindowMs: number;
  scaleUp: StepPolicy;
  scaleDown: StepPolicy;
  /** No scale-down within this long after a scale-up, ms. */
  cooldownMs: number;
}

export interface StepPolicy {
  /** Recommendations are stabilized over this window, ms (up: the lowest in it, down: the highest). */
  stabilizationMs: number;
  /** At most this many pods added (removed) per period. */
  maxStepPods: number;
  periodMs: number;
}

/** What the loop measured for the pool, summed over every gateway replica and pod. */
export interface PoolSignals {
  /** The count the workload is asked for now (spec.replicas). */
  currentReplicas: number;
  readyReplicas: number;
  /** Requests waiting in the gateways' queues, per class (quota-admitted only). */
  waitingInteractive: number;
  waitingFlex: number;
  waitingBatch: number;
  /** Requests dispatched to a pod and not finished, at the gateways (all classes but batch). */
  inFlight: number;
  /** Batch-class requests in flight. */
  inFlightBatch: number;
  /** From the pods' metrics: running + waiting summed; null when no pod was scraped. */
  runtimeRunning: number | null;
  runtimeWaiting: number | null;
  /** Mean KV-cache usage of the pods, 0..1; null when unknown. */
  kvUsage: number | null;
  /** TTFT p90 over the last interval, ms; null without samples. */
  ttftP90Ms: number | null;
  /**
   * Requests quota refused over the last interval: reported with each decision (logs, metrics) and on
   * purpose never part of the demand — capacity would not have served them.
   */
  quotaRefused: number;
}

export interface ScalingState {
  /** (time, recommendation) pairs within the longest stabilization window. */
  recommendations: Array<{ at: number; replicas: number }>;
  /** (time, live demand) pairs within the trend window. */
  demand: Array<{ at: number; live: number }>;
  lastChangeAt: number | null;
  lastScaleUpAt: number | null;
  /** Scale events inside the longest period, for the step limits. */
  events: Array<{ at: number; delta: number }>;
  /** The last time any request was waiting or in flight for the pool. */
  lastDemandAt: number | null;
}

export type ScalingReason =
  | 'paused'
  | 'steady'
  | 'demand'
  | 'look-ahead'
  | 'latency-objective'
  | 'kv-pressure'
  | 'cold-start'
  | 'below-min'
  | 'above-max'
  | 'idle-to-zero'
  | 'demand-fell'
  | 'interval'
  | 'cooldown'
  | 'stabilizing';

export interface ScalingDecision {
  /** The replica count to write; equal to signals.currentReplicas when nothing changes. */
  desired: number;
  /** What drove the decision (for a change) or held it (for no change). */
  reason: ScalingReason;
  /** The raw and stabilized recommendations and the demand figures behind them, for logs and metrics. */
  recommended: number;
  stabilized: number;
  liveDemand: number;
  projectedDemand: number;
  batchDemand: number;
  state: ScalingState;
}

export function initialScalingState(): ScalingState {
  return { recommendations: [], demand: [], lastChangeAt: null, lastScaleUpAt: null, events: [], lastDemandAt: null };
}

/** One tick's decision. `intervalMs` is the loop's period (at most one change per interval). */
export function decideScale(policy: ScalingPolicy, prev: ScalingState, s: PoolSignals, now: number, intervalMs: number, paused = false): ScalingDecision {
  const current = s.currentReplicas;
  const onPods = (s.runtimeRunning ?? 0) + (s.runtimeWaiting ?? 0);
  const liveDemand = Math.max(s.inFlight, onPods - s.inFlightBatch) + s.waitingInteractive + s.waitingFlex;
  const batchDemand = s.waitingBatch + s.inFlightBatch;
  const anyDemand = liveDemand + batchDemand > 0;

  // --- state bookkeeping (pure: copies)
  const horizon = Math.max(policy.scaleUp.stabilizationMs, policy.scaleDown.stabilizationMs);
  const demand = [...prev.demand.filter((d) => now - d.at <= policy.trendWindowMs), { at: now, live: liveDemand }];
  const lastDemandAt = anyDemand ? now : prev.lastDemandAt;

  // --- 1–3: the raw recommendation, in fractional pods
  const slopePerMs = risingSlope(demand, now, policy.trendWindowMs);
  const target = policy.targetInFlightPerPod;
  const rise = slopePerMs * policy.podStartupMs;
  // A rise under half a pod's worth (or inside the tolerance) is noise, not a trend: it would flap.
  const projectedDemand = rise >= Math.max(target / 2, policy.tolerance * liveDemand) ? liveDemand + rise : liveDemand;
  const forLive = liveDemand / target;
  const forProjected = projectedDemand / target;
  const withBatch = Math.min((liveDemand + batchDemand) / target, Math.max(policy.batchMaxReplicas, forLive));
  const pods = Math.max(forProjected, withBatch);
  let recommended = Math.ceil(pods - 1e-9);
  let upReason: ScalingReason = forProjected > withBatch ? 'look-ahead' : 'demand';
  // --- 5: tolerance band around the current count (from zero, any demand counts)
  if (current > 0 && Math.abs(pods / current - 1) <= policy.tolerance) recommended = current;

  // --- 4: pressure on the pods asks for one more than now
  const waiting = s.waitingInteractive + s.waitingFlex + (s.runtimeWaiting ?? 0) > 0;
  if (s.ttftP90Ms !== null && s.ttftP90Ms > policy.ttftP90ObjectiveMs && waiting && recommended <= current) {
    recommended = current + 1;
    upReason = 'latency-objective';
  } else if (s.kvUsage !== null && s.kvUsage >= policy.kvUsageHigh && recommended <= current) {
    recommended = current + 1;
    upReason = 'kv-pressure';
  }

  // --- 7 (floor) before stabilization, so the window sees the floored values
  const idleLongEnough = policy.idleToZeroMs !== null && (lastDemandAt === null ? true : now - lastDemandAt >= policy.idleToZeroMs);
  const floor = Math.max(policy.minReplicas, anyDemand || !idleLongEnough ? 1 : 0);
  recommended = Math.min(policy.maxReplicas, Math.max(floor, recommended));

  const recommendations = [...prev.recommendations.filter((r) => now - r.at < horizon), { at: now, replicas: recommended }];
  const state: ScalingState = { ...prev, demand, lastDemandAt, recommendations };
  const hold = (reason: ScalingReason, stabilized: number): ScalingDecision => ({
    desired: current,
    reason,
    recommended,
    stabilized,
    liveDemand,
    projectedDemand,
    batchDemand,
    state,
  });

  if (paused) return hold('paused', current);

  // --- 6: stabilization
  const within = (ms: number) => recommendations.filter((r) => now - r.at <= ms).map((r) => r.replicas);
  const upCandidate = Math.min(...within(policy.scaleUp.stabilizationMs));
  const downCandidate = Math.max(...within(policy.scaleDown.stabilizationMs));
  let stabilized = current;
  if (upCandidate > current) stabilized = upCandidate;
  else if (downCandidate < current) stabilized = downCandidate;
  // Idle for idleToZeroMs is itself the stabilization: to zero at once, past the window and step limits.
  const toZero = floor === 0 && recommended === 0 && current > 0;
  if (toZero) stabilized = 0;
  // Outside min/max (the config changed, or an operator scaled outside it): back inside at once.
  if (current < floor) stabilized = Math.max(stabilized, floor);
  if (current > policy.maxReplicas) stabilized = policy.maxReplicas;
  if (stabilized === current) return hold(recommended !== current ? 'stabilizing' : 'steady', stabilized);

  // --- 8: rate limits
  const up = stabilized > current;
  const step = up ? policy.scaleUp : policy.scaleDown;
  const events = prev.events.filter((e) => now - e.at < Math.max(policy.scaleUp.periodMs, policy.scaleDown.periodMs));
  const usedInPeriod = events.filter((e) => now - e.at < step.periodMs && (up ? e.delta > 0 : e.delta < 0)).reduce((sum, e) => sum + Math.abs(e.delta), 0);
  const allowed = step.maxStepPods - usedInPeriod;
  const outOfRange = current < floor || current > policy.maxReplicas || toZero;
  if (!outOfRange && prev.lastChangeAt !== null && now - prev.lastChangeAt < intervalMs) return hold('interval', stabilized);
  if (!up && !outOfRange && prev.lastScaleUpAt !== null && now - prev.lastScaleUpAt < policy.cooldownMs) return hold('cooldown', stabilized);
  if (allowed <= 0 && !outOfRange) return hold('interval', stabilized);
  const desired = outOfRange ? stabilized : up ? Math.min(stabilized, current + allowed) : Math.max(stabilized, current - allowed);

  let reason: ScalingReason;
  if (current < policy.minReplicas) reason = 'below-min';
  else if (current > policy.maxReplicas) reason = 'above-max';
  else if (toZero) reason = 'idle-to-zero';
  else if (up) reason = current === 0 ? 'cold-start' : upReason;
  else reason = desired === 0 ? 'idle-to-zero' : 'demand-fell';

  return {
    desired,
    reason,
    recommended,
    stabilized,
    liveDemand,
    projectedDemand,
    batchDemand,
    state: {
      ...state,
      lastChangeAt: now,
      lastScaleUpAt: up ? now : prev.lastScaleUpAt,
      events: [...events, { at: now, delta: desired - current }],
    },
  };
}

/** Demand's rise per ms, when it rose over both halves of the window; else 0. */
function risingSlope(samples: ReadonlyArray<{ at: number; live: number }>, now: number, windowMs: number): number {
  const first = samples[0]!;
  const last = samples.at(-1)!;
  const mid = samples.find((d) => d.at >= now - windowMs / 2);
  if (!mid || mid === first || mid === last) return 0;
  const early = (mid.live - first.live) / (mid.at - first.at);
  const late = (last.live - mid.live) / (last.at - mid.at);
  return Math.max(0, Math.min(early, late));
}

/** The policy a pool's catalogue `autoscaling` section describes (its defaults filled in by the schema). */
export function scalingPolicyOf(config: AutoscalingConfig): ScalingPolicy {
  return {
    ...config,
    scaleUp: { ...config.scaleUp },
    scaleDown: { ...config.scaleDown },
    batchMaxReplicas: config.batchMaxReplicas ?? config.maxReplicas,
    idleToZeroMs: config.idleToZeroMs ?? null,
  };
}
