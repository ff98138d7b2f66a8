/**
 * Organizations: create, list, read, update, suspend and resume; the models and limits an organization
 * gets. Role checks come first (see actor.ts); every change that alters what its keys may do is
 * broadcast so cached principals on every replica are dropped.
 */
import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TenancyEvents } from './tenancy-events.js';
import { CatalogService } from '../catalog/index.js';
import type { CatalogModel } from '../catalog/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { type Actor, assertOrgVisible, assertPlatformAdmin, auditEntry, isPlatformAdmin, orgNotFound } from './actor.js';
import { canonicalModels } from './model-list.js';
import { type OrganizationPatch, OrganizationRepository } from './organization.repository.js';
import { type OrganizationRecord, type Page, type PageQuery, SYSTEM_ORG_ID, type Tier } from './tenancy.types.js';

export interface CreateOrganization {
  name: string;
  tier?: Tier;
  allowedModels?: string[];
}

export interface UpdateOrganization {
  name?: string;
  tier?: Tier;
  /** null or [] = every model. */
  allowedModels?: string[] | null;
}

export const newOrgId = () => `org_${randomBytes(12).toString('hex')}`;

@Injectable()
export class OrganizationService {
  constructor(
    private readonly orgs: OrganizationRepository,
    private readonly catalog: CatalogService,
    private readonly invalidation: TenancyEvents,
  ) {}

  async create(actor: Actor, input: CreateOrganization): Promise<OrganizationRecord> {
    assertPlatformAdmin(actor, 'create organizations');
    const org = {
      id: newOrgId(),
      name: input.name,
      tier: input.tier ?? 'standard',
      allowedModels: canonicalModels(this.catalog, input.allowedModels ?? [], 'allowed_models'),
    };
    return this.orgs.create(org, auditEntry(actor, 'organization.create', { orgId: org.id, type: 'organization', id: org.id }, { name: org.name, tier: org.tier, allowedModels: org.allowedModels }));
  }

  /** Platform admins page through every organization; an org admin sees its own. */
  async list(actor: Actor, page: PageQuery): Promise<Page<OrganizationRecord>> {
    if (!isPlatformAdmin(actor)) {
      const own = await this.get(actor, actor.principal!.orgId);
      return { data: page.after ? [] : [own], hasMore: false };
    }
    if (page.after !== undefined && !(await this.orgs.exists(page.after))) {
      throw new ApiError(ErrorCode.InvalidValue, `'after' must be the id of an organization from a previous page.`, 'after');
    }
    return this.orgs.list(page);
  }

  async get(actor: Actor, orgId: string): Promise<OrganizationRecord> {
    assertOrgVisible(actor, orgId);
    const org = await this.orgs.findById(orgId);
    if (!org) throw orgNotFound(orgId);
    return org;
  }

  /** Org admins may rename their organization; tier and model access are the platform's to set. */
  async update(actor: Actor, orgId: string, input: UpdateOrganization): Promise<OrganizationRecord> {
    assertOrgVisible(actor, orgId);
    if ((input.tier !== undefined || input.allowedModels !== undefined) && !isPlatformAdmin(actor)) {
      throw new ApiError(ErrorCode.PermissionDenied, "Only platform administrators may change an organization's tier or model access.");
    }
    const patch: OrganizationPatch = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.tier !== undefined) patch.tier = input.tier;
    if (input.allowedModels !== undefined) patch.allowedModels = canonicalModels(this.catalog, input.allowedModels ?? [], 'allowed_models');
    if (!Object.keys(patch).length) throw new ApiError(ErrorCode.InvalidRequest, 'Nothing to update: send at least one of name, tier, allowed_models.');
    return this.change(actor, orgId, patch, 'organization.update');
  }

  async suspend(actor: Actor, orgId: string): Promise<OrganizationRecord> {
    assertPlatformAdmin(actor, 'suspend organizations');
    if (orgId === SYSTEM_ORG_ID) throw new ApiError(ErrorCode.InvalidRequest, 'The system organization cannot be suspended.');
    return this.change(actor, orgId, { status: 'suspended' }, 'organization.suspend');
  }

  async resume(actor: Actor, orgId: string): Promise<OrganizationRecord> {
    assertPlatformAdmin(actor, 'resume organizations');
    return this.change(actor, orgId, { status: 'active' }, 'organization.resume');
  }

  /** The catalogue models (with aliases) the organization's keys may be allowed to use. */
  async models(actor: Actor, orgId: string): Promise<CatalogModel[]> {
    const org = await this.get(actor, orgId);
    const allowed = new Set(org.allowedModels);
    return this.catalog.listModels().filter((m) => !allowed.size || allowed.has(m.name));
  }

  private async change(actor: Actor, orgId: string, patch: OrganizationPatch, action: string): Promise<OrganizationRecord> {
    const org = await this.orgs.update(orgId, patch, auditEntry(actor, action, { orgId, type: 'organization', id: orgId }, { ...patch }));
    if (!org) throw orgNotFound(orgId);
    // Tier, model access and status are part of every cached principal of this organization.
    if (patch.tier !== undefined || patch.allowedModels !== undefined || patch.status !== undefined) {
      await this.invalidation.publish({ kind: 'org', id: orgId });
    }
    return org;
  }
}
