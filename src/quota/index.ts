/** The public surface of the quota module: what other modules may import (docs/architecture.md). */
export { AdmissionGate } from './admission-gate.js';
export type { AdmissionPass } from './admission-gate.js';
export type { LimitPolicyRecord } from './limit-policy.repository.js';
export { LimitPolicyService } from './limit-policy.service.js';
export type { LimitTarget } from './limit-policy.service.js';
export type { LimitOverride } from './limits.js';
export { QuotaModule } from './quota.module.js';
export { QuotaService } from './quota.service.js';
export type { QuotaTicket } from './quota.service.js';
