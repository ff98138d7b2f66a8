/**
 * API key rows for the admin side (create, list, revoke, rotate). Reads for authentication live in
 * auth/credential.repository.ts. The secret never reaches this file: only its hash and prefix.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/index.js';
import type { ApiKey } from '../generated/prisma/client.js';
import { auditRow } from './audit-log.repository.js';
import type { ApiKeyRecord, AuditEntry, NewApiKey, Page, PageQuery } from './tenancy.types.js';

function toRecord(row: ApiKey): ApiKeyRecord {
  return {
    id: row.id,
    orgId: row.orgId,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    allowedModels: row.allowedModels,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
    createdByKeyId: row.createdByKeyId,
    rotatedFromId: row.rotatedFromId,
    createdAt: row.createdAt,
  };
}

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(key: NewApiKey, audit: AuditEntry): Promise<ApiKeyRecord> {
    const [row] = await this.prisma.$transaction([this.prisma.apiKey.create({ data: key }), this.prisma.auditLog.create({ data: auditRow(audit) })]);
    return toRecord(row);
  }

  /** Inserts the key unless its hash is stored already (revoked or not); true if inserted. */
  async createIfHashMissing(key: NewApiKey, audit: AuditEntry): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.apiKey.createMany({ data: [key], skipDuplicates: true });
      if (count) await tx.auditLog.create({ data: auditRow(audit) });
      return count > 0;
    });
  }

  async findInOrg(orgId: string, keyId: string): Promise<ApiKeyRecord | null> {
    const row = await this.prisma.apiKey.findFirst({ where: { id: keyId, orgId } });
    return row && toRecord(row);
  }

  /** Oldest first; `after` must be a key of the same organization (checked by the caller). */
  async list(orgId: string, page: PageQuery, includeRevoked: boolean): Promise<Page<ApiKeyRecord>> {
    const rows = await this.prisma.apiKey.findMany({
      where: { orgId, ...(!includeRevoked && { revokedAt: null }) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      ...(page.after !== undefined && { cursor: { id: page.after }, skip: 1 }),
      take: page.limit + 1,
    });
    return { data: rows.slice(0, page.limit).map(toRecord), hasMore: rows.length > page.limit };
  }

  /** Revokes an active key; null if the key is not in the organization, unchanged if already revoked. */
  async revoke(orgId: string, keyId: string, audit: AuditEntry): Promise<{ key: ApiKeyRecord; changed: boolean } | null> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.apiKey.updateMany({ where: { id: keyId, orgId, revokedAt: null }, data: { revokedAt: new Date() } });
      const row = await tx.apiKey.findFirst({ where: { id: keyId, orgId } });
      if (!row) return null;
      if (count) await tx.auditLog.create({ data: auditRow(audit) });
      return { key: toRecord(row), changed: count > 0 };
    });
  }

  /**
   * Creates the replacement and retires the old key in one transaction: revoked now, or (with a grace
   * period) expiring at `retireAt`. Null if the old key is not an active key of the organization.
   */
  async rotate(orgId: string, oldKeyId: string, replacement: NewApiKey, retireAt: Date | null, audit: AuditEntry): Promise<{ old: ApiKeyRecord; created: ApiKeyRecord } | null> {
    return this.prisma.$transaction(async (tx) => {
      const current = await tx.apiKey.findFirst({ where: { id: oldKeyId, orgId, revokedAt: null } });
      if (!current) return null;
      const retire = retireAt === null ? { revokedAt: new Date() } : { expiresAt: current.expiresAt && current.expiresAt < retireAt ? current.expiresAt : retireAt };
      const old = await tx.apiKey.update({ where: { id: oldKeyId }, data: retire });
      const created = await tx.apiKey.create({ data: replacement });
      await tx.auditLog.create({ data: auditRow(audit) });
      return { old: toRecord(old), created: toRecord(created) };
    });
  }
}
