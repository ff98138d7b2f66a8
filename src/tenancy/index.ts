/** The public surface of the tenancy module: what other modules may import (docs/architecture.md). */
export { SYSTEM_ACTOR, assertOrgVisible, assertPlatformAdmin, auditEntry, isPlatformAdmin } from './actor.js';
export type { Actor } from './actor.js';
export { ApiKeyHasher } from './api-key.hasher.js';
export { displayPrefix } from './api-key.secret.js';
export { ApiKeyService, MAX_ROTATION_GRACE_SECONDS } from './api-key.service.js';
export { AuditLogRepository, auditRow } from './audit-log.repository.js';
export { AuditLogService } from './audit-log.service.js';
export { organizationCacheSalt } from './cache-salt.js';
export { OrganizationService } from './organization.service.js';
export { SCOPES, canUseModel, effectiveAllowList } from './principal.js';
export type { Principal, Scope } from './principal.js';
export { TenancyEvents } from './tenancy-events.js';
export { TenancyModule } from './tenancy.module.js';
export type { ApiKeyRecord, AuditEntry, AuditRecord, OrganizationRecord, Page } from './tenancy.types.js';
export { TIER_POLICIES } from './tiers.js';
