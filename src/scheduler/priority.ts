/**
 * Who goes first. Two axes:
 *
 * - The priority class, strict: `interactive` (the default) before `flex` (`service_tier: "flex"`:
 *   cheaper, slower, may wait minutes) before `batch` (deferred work fed from BullMQ). A lower class is
 *   served only when no request of a higher class waits, so flex and batch soak up idle capacity.
 * - Inside a class, weighted fair share between organizations (fair-queue.ts), weighted by tier:
 *   weight = 2^priority of the tier (free 1, standard 2, premium 4, enterprise 8). Under contention a
 *   premium organization gets 4× the share of a free one, and a request from an organization with
 *   nothing queued goes ahead of a flooding organization's backlog whatever their tiers.
 *
 * Tiers are not strict classes on purpose: strict priority by tier starves every lower tier for as long
 * as one higher-tier tenant floods (docs/architecture.md, "Scheduling").
 */
import type { Principal } from '../tenancy/index.js';
import type { PriorityClass } from '../config/index.js';
import { TIER_POLICIES } from '../tenancy/index.js';

export const PRIORITY_CLASSES: readonly PriorityClass[] = ['interactive', 'flex', 'batch'];

/** The class a request's `service_tier` asks for (`auto`, `default`, `priority`, `scale` → interactive). */
export function priorityClassOf(serviceTier: unknown): PriorityClass {
  return serviceTier === 'flex' ? 'flex' : 'interactive';
}

/** Fair-share weight of an organization; principals without a tier count as `standard`. */
export function tierWeight(principal: Pick<Principal, 'tier'> | { tier?: string }): number {
  const tier = (principal as { tier?: string }).tier ?? 'standard';
  const policy = TIER_POLICIES[tier as keyof typeof TIER_POLICIES] ?? TIER_POLICIES.standard;
  return 2 ** policy.priority;
}

/** Output tokens counted in a request's fair-share cost, at most (max_tokens is an upper bound, often far off). */
const OUTPUT_COST_CAP = 512;

/** Service a request is charged in the fair queue: its prompt plus its (capped) output bound, in tokens. */
export function requestCost(promptTokens: number, maxOutputTokens: number): number {
  return 1 + promptTokens + Math.min(maxOutputTokens, OUTPUT_COST_CAP);
}
