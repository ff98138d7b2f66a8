/** The append-only admin audit trail. Other repositories write entries inside their own transactions. */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/index.js';
import type { AuditLog, Prisma } from '../generated/prisma/client.js';
import type { AuditEntry, AuditRecord, Page, PageQuery } from './tenancy.types.js';

export function auditRow(entry: AuditEntry): Prisma.AuditLogCreateInput {
  return { ...entry, details: entry.details as Prisma.InputJsonValue };
}

function toRecord(row: AuditLog): AuditRecord {
  return {
    id: row.id.toString(),
    createdAt: row.createdAt,
    actorKeyId: row.actorKeyId,
    actorKeyPrefix: row.actorKeyPrefix,
    actorOrgId: row.actorOrgId,
    action: row.action,
    orgId: row.orgId,
    targetType: row.targetType as AuditRecord['targetType'],
    targetId: row.targetId,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    details: row.details as Record<string, unknown>,
  };
}

@Injectable()
export class AuditLogRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** An event with no other write to share a transaction with (e.g. a soft budget crossed). */
  async append(entry: AuditEntry): Promise<void> {
    await this.prisma.auditLog.create({ data: auditRow(entry) });
  }

  /** Newest first; `after` is the id of the last entry already seen. `orgId` undefined = every org. */
  async list(filter: { orgId?: string }, page: PageQuery): Promise<Page<AuditRecord>> {
    const rows = await this.prisma.auditLog.findMany({
      where: {
        ...(filter.orgId !== undefined && { orgId: filter.orgId }),
        ...(page.after !== undefined && { id: { lt: BigInt(page.after) } }),
      },
      orderBy: { id: 'desc' },
      take: page.limit + 1,
    });
    return { data: rows.slice(0, page.limit).map(toRecord), hasMore: rows.length > page.limit };
  }
}
