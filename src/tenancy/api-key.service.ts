/**
 * API keys: create (the secret is returned once and never stored), list, read, revoke, rotate.
 * Org admins manage their own organization's keys; only platform admins mint platform_admin keys, and
 * only in the system organization. Revocation and rotation are broadcast to every replica's cache.
 */
import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ApiKeyHasher } from './api-key.hasher.js';
import { displayPrefix, generateApiKey } from './api-key.secret.js';
import { TenancyEvents } from './tenancy-events.js';
import { CatalogService } from '../catalog/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { type Actor, assertOrgVisible, auditEntry, isPlatformAdmin, orgNotFound } from './actor.js';
import { ApiKeyRepository } from './api-key.repository.js';
import { canonicalModels } from './model-list.js';
import { OrganizationRepository } from './organization.repository.js';
import { type ApiKeyRecord, type NewApiKey, type Page, type PageQuery, type Scope, SYSTEM_ORG_ID } from './tenancy.types.js';

export interface CreateApiKey {
  name: string;
  /** Default: ['inference']. */
  scopes?: Scope[];
  /** Within the organization's models; empty or absent = all of them. */
  allowedModels?: string[];
  expiresAt?: Date | null;
}

export interface CreatedApiKey {
  key: ApiKeyRecord;
  /** The only time the secret exists outside the client. */
  secret: string;
}

export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;
export const newKeyId = () => `key_${randomBytes(12).toString('hex')}`;

export function keyNotFound(keyId: string): ApiError {
  return new ApiError(ErrorCode.NotFound, `No API key found with id '${keyId}'.`);
}

/** A fresh secret and the row that stores it (hash and display prefix only). */
export function mintKey(hasher: ApiKeyHasher, row: Omit<NewApiKey, 'id' | 'hash' | 'prefix'>): { row: NewApiKey; secret: string } {
  const secret = generateApiKey();
  return { secret, row: { ...row, id: newKeyId(), hash: hasher.hash(secret), prefix: displayPrefix(secret) } };
}

/**
 * platform_admin keys are managed by platform admins only: an org admin of the system organization
 * (where those keys live) sees them but may not revoke or rotate them.
 */
function assertMayManage(actor: Actor, key: ApiKeyRecord, action: 'revoke' | 'rotate'): void {
  if (key.scopes.includes('platform_admin') && !isPlatformAdmin(actor)) {
    throw new ApiError(ErrorCode.PermissionDenied, `Only platform administrators may ${action} platform_admin keys.`);
  }
}

@Injectable()
export class ApiKeyService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly orgs: OrganizationRepository,
    private readonly hasher: ApiKeyHasher,
    private readonly catalog: CatalogService,
    private readonly invalidation: TenancyEvents,
  ) {}

  async create(actor: Actor, orgId: string, input: CreateApiKey): Promise<CreatedApiKey> {
    assertOrgVisible(actor, orgId);
    const org = await this.orgs.findById(orgId);
    if (!org) throw orgNotFound(orgId);
    const scopes = [...new Set(input.scopes ?? (['inference'] as Scope[]))];
    if (!scopes.length) throw new ApiError(ErrorCode.InvalidValue, 'A key needs at least one scope.', 'scopes');
    if (scopes.includes('platform_admin')) {
      if (!isPlatformAdmin(actor)) throw new ApiError(ErrorCode.PermissionDenied, 'Only platform administrators may create platform_admin keys.');
      if (orgId !== SYSTEM_ORG_ID) throw new ApiError(ErrorCode.InvalidValue, `platform_admin keys belong to the system organization (${SYSTEM_ORG_ID}).`, 'scopes');
    }
    const allowedModels = canonicalModels(this.catalog, input.allowedModels ?? [], 'allowed_models');
    if (org.allowedModels.length) {
      const outside = allowedModels.findIndex((m) => !org.allowedModels.includes(m));
      if (outside >= 0) throw new ApiError(ErrorCode.InvalidValue, `The organization may not use '${allowedModels[outside]}'.`, `allowed_models[${outside}]`);
    }
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) throw new ApiError(ErrorCode.InvalidValue, 'expires_at must be in the future.', 'expires_at');

    const { row, secret } = mintKey(this.hasher, { orgId, name: input.name, scopes, allowedModels, expiresAt, createdByKeyId: actor.principal?.keyId ?? null, rotatedFromId: null });
    const key = await this.keys.create(
      row,
      auditEntry(actor, 'api_key.create', { orgId, type: 'api_key', id: row.id }, { name: row.name, prefix: row.prefix, scopes, allowedModels, expiresAt }),
    );
    return { key, secret };
  }

  async list(actor: Actor, orgId: string, page: PageQuery, includeRevoked: boolean): Promise<Page<ApiKeyRecord>> {
    await this.assertOrgExists(actor, orgId);
    if (page.after !== undefined && !(await this.keys.findInOrg(orgId, page.after))) {
      throw new ApiError(ErrorCode.InvalidValue, `'after' must be the id of a key from a previous page.`, 'after');
    }
    return this.keys.list(orgId, page, includeRevoked);
  }

  async get(actor: Actor, orgId: string, keyId: string): Promise<ApiKeyRecord> {
    await this.assertOrgExists(actor, orgId);
    const key = await this.keys.findInOrg(orgId, keyId);
    if (!key) throw keyNotFound(keyId);
    return key;
  }

  /** Idempotent: revoking a revoked key returns it unchanged. Every replica refuses it within a second. */
  async revoke(actor: Actor, orgId: string, keyId: string): Promise<ApiKeyRecord> {
    const current = await this.get(actor, orgId, keyId);
    assertMayManage(actor, current, 'revoke');
    const result = await this.keys.revoke(orgId, keyId, auditEntry(actor, 'api_key.revoke', { orgId, type: 'api_key', id: keyId }));
    if (!result) throw keyNotFound(keyId);
    if (result.changed) await this.invalidation.publish({ kind: 'key', id: keyId });
    return result.key;
  }

  /**
   * A new secret with the same name, scopes, models and expiry; the old key is revoked at once, or
   * (graceSeconds > 0) keeps working until then so clients can switch over.
   */
  async rotate(actor: Actor, orgId: string, keyId: string, graceSeconds = 0): Promise<CreatedApiKey & { old: ApiKeyRecord }> {
    const current = await this.get(actor, orgId, keyId);
    if (current.revokedAt) throw new ApiError(ErrorCode.InvalidRequest, 'This key is revoked; create a new key instead.');
    assertMayManage(actor, current, 'rotate');
    const { row, secret } = mintKey(this.hasher, {
      orgId,
      name: current.name,
      scopes: current.scopes,
      allowedModels: current.allowedModels,
      expiresAt: current.expiresAt,
      createdByKeyId: actor.principal?.keyId ?? null,
      rotatedFromId: current.id,
    });
    const retireAt = graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null;
    const result = await this.keys.rotate(
      orgId,
      keyId,
      row,
      retireAt,
      auditEntry(actor, 'api_key.rotate', { orgId, type: 'api_key', id: keyId }, { newKeyId: row.id, newPrefix: row.prefix, graceSeconds }),
    );
    if (!result) throw new ApiError(ErrorCode.InvalidRequest, 'This key was revoked meanwhile; create a new key instead.');
    await this.invalidation.publish({ kind: 'key', id: keyId });
    return { key: result.created, secret, old: result.old };
  }

  private async assertOrgExists(actor: Actor, orgId: string): Promise<void> {
    assertOrgVisible(actor, orgId);
    if (!(await this.orgs.exists(orgId))) throw orgNotFound(orgId);
  }
}
