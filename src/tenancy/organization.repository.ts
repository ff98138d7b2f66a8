/** Organizations in PostgreSQL. Every write carries its audit entry, committed in the same transaction. */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/index.js';
import type { Organization } from '../generated/prisma/client.js';
import { auditRow } from './audit-log.repository.js';
import type { AuditEntry, OrganizationRecord, OrgStatus, Page, PageQuery, Tier } from './tenancy.types.js';

export interface OrganizationPatch {
  name?: string;
  tier?: Tier;
  allowedModels?: string[];
  status?: OrgStatus;
}

function toRecord(row: Organization): OrganizationRecord {
  return {
    id: row.id,
    name: row.name,
    tier: row.tier,
    status: row.status,
    allowedModels: row.allowedModels,
    suspendedAt: row.suspendedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

@Injectable()
export class OrganizationRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(org: { id: string; name: string; tier: Tier; allowedModels: string[] }, audit: AuditEntry): Promise<OrganizationRecord> {
    const [row] = await this.prisma.$transaction([this.prisma.organization.create({ data: org }), this.prisma.auditLog.create({ data: auditRow(audit) })]);
    return toRecord(row);
  }

  /** Creates the organization unless its id exists (concurrent boots are fine); true if created. */
  async createIfMissing(org: { id: string; name: string; tier: Tier }, audit: AuditEntry): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.organization.createMany({ data: [org], skipDuplicates: true });
      if (count) await tx.auditLog.create({ data: auditRow(audit) });
      return count > 0;
    });
  }

  async findById(id: string): Promise<OrganizationRecord | null> {
    const row = await this.prisma.organization.findUnique({ where: { id } });
    return row && toRecord(row);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.prisma.organization.count({ where: { id } })) > 0;
  }

  /** Oldest first; `after` must be an existing organization id (checked by the caller). */
  async list(page: PageQuery): Promise<Page<OrganizationRecord>> {
    const rows = await this.prisma.organization.findMany({
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      ...(page.after !== undefined && { cursor: { id: page.after }, skip: 1 }),
      take: page.limit + 1,
    });
    return { data: rows.slice(0, page.limit).map(toRecord), hasMore: rows.length > page.limit };
  }

  /** Applies the patch (status changes stamp suspended_at); null when the organization does not exist. */
  async update(id: string, patch: OrganizationPatch, audit: AuditEntry): Promise<OrganizationRecord | null> {
    return this.prisma.$transaction(async (tx) => {
      const current = await tx.organization.findUnique({ where: { id }, select: { status: true } });
      if (!current) return null;
      const suspendedAt = patch.status === undefined || patch.status === current.status ? {} : { suspendedAt: patch.status === 'suspended' ? new Date() : null };
      const row = await tx.organization.update({ where: { id }, data: { ...patch, ...suspendedAt } });
      await tx.auditLog.create({ data: auditRow(audit) });
      return toRecord(row);
    });
  }
}
