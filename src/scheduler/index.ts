/**
 * The scheduler's public surface: what other components import. Everything else in this folder (the
 * pool scheduler and its parts, placement) is internal and may change shape without notice.
 *
 * - SchedulerService: admission per pool (admit → Lease), pool state for routing (isDown, isSaturated);
 * - Lease: a request's hold on a pod (firstToken, release, retry) and NoRetryTarget / AdmissionAborted;
 * - Ticket: what admission needs to know about a request, with its class, weight, cost (priority.ts)
 *   and the prompt's prefix key (prefixKey);
 * - SchedulerMetrics: the scheduler's and routing's Prometheus metrics.
 */
export { SchedulerService } from './scheduler.service.js';
export { SchedulerMetrics } from './scheduler.metrics.js';
export type { Lease } from './lease.js';
export { AdmissionAborted, COLD_START_HEADER, NoRetryTarget } from './scheduler.errors.js';
export type { PrefillEnd, Ticket } from './ticket.js';
export { PRIORITY_CLASSES, priorityClassOf, requestCost, tierWeight } from './priority.js';
export { EMPTY_PREFIX, prefixKey, type PrefixKey, type PrefixSettings } from './placement/prefix-hash.js';
export { SchedulerModule } from './scheduler.module.js';
