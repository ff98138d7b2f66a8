/**
 * The autoscaler's public surface (docs/architecture.md, "Autoscaling"): the per-pool decision
 * function and its policy, built from a pool's catalogue `autoscaling` section.
 */
export { decideScale, initialScalingState, scalingPolicyOf, type PoolSignals, type ScalingDecision, type ScalingPolicy, type ScalingReason, type ScalingState } from './scaling-policy.js';
export { AutoscalerModule } from './autoscaler.module.js';
export { AutoscalerService } from './autoscaler.service.js';
