/** Reading the audit trail: platform admins see every organization's, org admins their own. */
import { Injectable } from '@nestjs/common';
import { type Actor, assertOrgVisible, isPlatformAdmin } from './actor.js';
import { AuditLogRepository } from './audit-log.repository.js';
import type { AuditRecord, Page, PageQuery } from './tenancy.types.js';

@Injectable()
export class AuditLogService {
  constructor(private readonly audit: AuditLogRepository) {}

  async list(actor: Actor, orgId: string | undefined, page: PageQuery): Promise<Page<AuditRecord>> {
    if (orgId !== undefined) assertOrgVisible(actor, orgId);
    // An org admin without an org filter still sees only its own organization.
    const platform = isPlatformAdmin(actor);
    const scope = orgId ?? (platform ? undefined : actor.principal!.orgId);
    const result = await this.audit.list({ orgId: scope }, page);
    // Where a change came from (an operator's IP and user agent) is the platform's business: a tenant
    // sees who (the key) and what, not the platform staff's network details.
    return platform ? result : { ...result, data: result.data.map((entry) => ({ ...entry, ip: null, userAgent: null })) };
  }
}
