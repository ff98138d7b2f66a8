/**
 * First-run tenancy state: the system organization (home of platform-admin keys) and, when
 * SWITCHYARD_BOOTSTRAP_API_KEY is set, that key as a platform-admin key. Both are idempotent and safe
 * when several replicas boot at once. A bootstrap key revoked through the admin API stays revoked:
 * its hash is already stored, so it is never re-created. The CLI (admin.cli.ts) mints keys instead of
 * taking one from the environment.
 */
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApiKeyHasher } from './api-key.hasher.js';
import { displayPrefix } from './api-key.secret.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { LOGGER } from '../observability/index.js';
import { SYSTEM_ACTOR, auditEntry } from './actor.js';
import { ApiKeyRepository } from './api-key.repository.js';
import { type CreatedApiKey, mintKey, newKeyId } from './api-key.service.js';
import { OrganizationRepository } from './organization.repository.js';
import { SYSTEM_ORG_ID } from './tenancy.types.js';

export async function ensureSystemOrg(orgs: OrganizationRepository): Promise<void> {
  const org = { id: SYSTEM_ORG_ID, name: 'System', tier: 'enterprise' as const };
  await orgs.createIfMissing(org, auditEntry(SYSTEM_ACTOR, 'organization.create', { orgId: org.id, type: 'organization', id: org.id }, { name: org.name, tier: org.tier }));
}

/** Mints a new platform-admin key in the system organization (the CLI path). */
export async function createPlatformKey(orgs: OrganizationRepository, keys: ApiKeyRepository, hasher: ApiKeyHasher, name: string): Promise<CreatedApiKey> {
  await ensureSystemOrg(orgs);
  const { row, secret } = mintKey(hasher, { orgId: SYSTEM_ORG_ID, name, scopes: ['platform_admin'], allowedModels: [], expiresAt: null, createdByKeyId: null, rotatedFromId: null });
  const key = await keys.create(row, auditEntry(SYSTEM_ACTOR, 'api_key.create', { orgId: SYSTEM_ORG_ID, type: 'api_key', id: row.id }, { name, prefix: row.prefix, scopes: row.scopes, source: 'cli' }));
  return { key, secret };
}

@Injectable()
export class TenancyBootstrap implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly orgs: OrganizationRepository,
    private readonly keys: ApiKeyRepository,
    private readonly hasher: ApiKeyHasher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await ensureSystemOrg(this.orgs);
    const secret = this.config.bootstrapApiKey;
    if (!secret) return;
    const id = newKeyId();
    const prefix = displayPrefix(secret);
    const created = await this.keys.createIfHashMissing(
      { id, orgId: SYSTEM_ORG_ID, name: 'bootstrap', hash: this.hasher.hash(secret), prefix, scopes: ['platform_admin'], allowedModels: [], expiresAt: null, createdByKeyId: null, rotatedFromId: null },
      auditEntry(SYSTEM_ACTOR, 'api_key.create', { orgId: SYSTEM_ORG_ID, type: 'api_key', id }, { name: 'bootstrap', prefix, scopes: ['platform_admin'], source: 'SWITCHYARD_BOOTSTRAP_API_KEY' }),
    );
    if (created) this.logger.info({ key: prefix }, 'registered SWITCHYARD_BOOTSTRAP_API_KEY as a platform-admin key of the system organization');
  }
}
