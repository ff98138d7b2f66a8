/** Limit overrides in PostgreSQL (limit_policies), written with their audit entry in one transaction. */
import { Injectable } from '@nestjs/common';
import { LIMIT_FIELDS } from '../config/index.js';
import { PrismaService } from '../database/index.js';
import type { LimitPolicy } from '../generated/prisma/client.js';
import { auditRow } from '../tenancy/index.js';
import type { AuditEntry } from '../tenancy/index.js';
import type { LimitOverride, ScopeKind } from './limits.js';

export interface LimitPolicyRecord {
  scopeKey: string;
  scope: ScopeKind;
  orgId: string;
  keyId: string | null;
  model: string | null;
  override: LimitOverride;
  /** Set by a platform admin: org admins may only tighten these values (limit-policy.service.ts). */
  lockedByPlatform: boolean;
}

function toRecord(row: LimitPolicy): LimitPolicyRecord {
  const override: LimitOverride = {};
  for (const field of LIMIT_FIELDS) {
    const value = row[field];
    if (value !== null && value !== undefined) override[field] = Number(value);
  }
  return { scopeKey: row.scopeKey, scope: row.scope, orgId: row.orgId, keyId: row.keyId, model: row.model, override, lockedByPlatform: row.lockedByPlatform };
}

@Injectable()
export class LimitPolicyRepository {
  constructor(private readonly prisma: PrismaService) {}

  async findAll(): Promise<LimitPolicyRecord[]> {
    return (await this.prisma.limitPolicy.findMany()).map(toRecord);
  }

  async find(scopeKey: string): Promise<LimitPolicyRecord | null> {
    const row = await this.prisma.limitPolicy.findUnique({ where: { scopeKey } });
    return row ? toRecord(row) : null;
  }

  async findByOrg(orgId: string): Promise<LimitPolicyRecord[]> {
    return (await this.prisma.limitPolicy.findMany({ where: { orgId }, orderBy: { scopeKey: 'asc' } })).map(toRecord);
  }

  /** Replaces the scope's override with `override` (fields absent = inherit); empty deletes the row. */
  async put(target: Omit<LimitPolicyRecord, 'override'>, override: LimitOverride, audit: AuditEntry): Promise<LimitPolicyRecord | null> {
    return this.prisma.$transaction(async (tx) => {
      await tx.auditLog.create({ data: auditRow(audit) });
      if (Object.keys(override).length === 0) {
        await tx.limitPolicy.deleteMany({ where: { scopeKey: target.scopeKey } });
        return null;
      }
      const columns = Object.fromEntries(LIMIT_FIELDS.map((f) => [f, override[f] ?? null]));
      const row = await tx.limitPolicy.upsert({
        where: { scopeKey: target.scopeKey },
        create: { scopeKey: target.scopeKey, scope: target.scope, orgId: target.orgId, keyId: target.keyId, model: target.model, lockedByPlatform: target.lockedByPlatform, ...columns },
        update: { ...columns, lockedByPlatform: target.lockedByPlatform },
      });
      return toRecord(row);
    });
  }
}
