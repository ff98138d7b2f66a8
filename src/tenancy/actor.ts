/**
 * Who performs an admin action, and the two roles: platform admin (every organization) and org admin
 * (its own organization only). Anything outside an org admin's organization is reported as not found,
 * so ids of other tenants cannot be probed.
 */
import type { Principal } from './principal.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { type AuditEntry, SYSTEM_ORG_ID } from './tenancy.types.js';

export interface Actor {
  /** The calling key; null for the system itself (boot-time bootstrap, the CLI, test fixtures). */
  principal: Principal | null;
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

export const SYSTEM_ACTOR: Actor = { principal: null };

export function isPlatformAdmin(actor: Actor): boolean {
  const p = actor.principal;
  return p === null || (p.orgId === SYSTEM_ORG_ID && p.scopes.has('platform_admin'));
}

export function orgNotFound(orgId: string): ApiError {
  return new ApiError(ErrorCode.NotFound, `No organization found with id '${orgId}'.`);
}

/** Platform admins see every organization; org admins only their own. Others: 404. */
export function assertOrgVisible(actor: Actor, orgId: string): void {
  if (isPlatformAdmin(actor)) return;
  const p = actor.principal!;
  if (p.orgId !== orgId || !p.scopes.has('org_admin')) throw orgNotFound(orgId);
}

export function assertPlatformAdmin(actor: Actor, action: string): void {
  if (!isPlatformAdmin(actor)) throw new ApiError(ErrorCode.PermissionDenied, `Only platform administrators may ${action}.`);
}

export function auditEntry(
  actor: Actor,
  action: string,
  target: { orgId: string | null; type: AuditEntry['targetType']; id: string | null },
  details: Record<string, unknown> = {},
): AuditEntry {
  return {
    actorKeyId: actor.principal?.keyId ?? null,
    actorKeyPrefix: actor.principal?.keyPrefix ?? null,
    actorOrgId: actor.principal?.orgId ?? null,
    action,
    orgId: target.orgId,
    targetType: target.type,
    targetId: target.id,
    ip: actor.ip ?? null,
    userAgent: actor.userAgent ?? null,
    requestId: actor.requestId ?? null,
    details,
  };
}
