/**
 * The authentication side of the api_keys table: look a key up by its hash (on a cache miss only) and
 * write last-used times in batches. Writes that change what a key may do live in tenancy/.
 */
import { Injectable } from '@nestjs/common';
import type { Tier } from '../config/index.js';
import { PrismaService } from '../database/index.js';
import type { Scope } from '../tenancy/index.js';

export interface StoredCredential {
  keyId: string;
  keyPrefix: string;
  scopes: Scope[];
  keyAllowedModels: string[];
  expiresAt: Date | null;
  revokedAt: Date | null;
  orgId: string;
  orgTier: Tier;
  orgActive: boolean;
  orgAllowedModels: string[];
}

const LAST_USED_BATCH = 1_000;

@Injectable()
export class CredentialRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** One indexed lookup on the unique hash; nothing else about the presented key is queried. */
  async findByHash(hash: string): Promise<StoredCredential | null> {
    const key = await this.prisma.apiKey.findUnique({
      where: { hash },
      select: {
        id: true,
        prefix: true,
        scopes: true,
        allowedModels: true,
        expiresAt: true,
        revokedAt: true,
        org: { select: { id: true, tier: true, status: true, allowedModels: true } },
      },
    });
    if (!key) return null;
    return {
      keyId: key.id,
      keyPrefix: key.prefix,
      scopes: key.scopes,
      keyAllowedModels: key.allowedModels,
      expiresAt: key.expiresAt,
      revokedAt: key.revokedAt,
      orgId: key.org.id,
      orgTier: key.org.tier,
      orgActive: key.org.status === 'active',
      orgAllowedModels: key.org.allowedModels,
    };
  }

  /** Sets last_used_at for many keys in one statement per batch; never moves a time backwards. */
  async recordLastUsed(entries: ReadonlyArray<readonly [keyId: string, at: number]>): Promise<void> {
    for (let i = 0; i < entries.length; i += LAST_USED_BATCH) {
      const batch = entries.slice(i, i + LAST_USED_BATCH);
      const ids = batch.map(([id]) => id);
      const times = batch.map(([, at]) => new Date(at).toISOString());
      // Timestamps are stored as UTC without a zone, as Prisma writes them.
      await this.prisma.$executeRaw`
        UPDATE api_keys AS k SET last_used_at = (u.at::timestamptz AT TIME ZONE 'UTC')
        FROM unnest(${ids}::text[], ${times}::text[]) AS u(id, at)
        WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < (u.at::timestamptz AT TIME ZONE 'UTC'))`;
    }
  }
}
