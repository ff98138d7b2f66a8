/** Tenancy records as services and controllers see them (repositories map Prisma rows to these). */
import type { Scope } from './principal.js';
import type { Tier } from '../config/index.js';

export type { Scope } from './principal.js';
export type { Tier } from '../config/index.js';
export type OrgStatus = 'active' | 'suspended';

/** The platform operators' organization: the only one whose keys may hold `platform_admin`. */
export const SYSTEM_ORG_ID = 'org_system';

export interface OrganizationRecord {
  id: string;
  name: string;
  tier: Tier;
  status: OrgStatus;
  /** Catalogue model names; empty = every model. */
  allowedModels: string[];
  suspendedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiKeyRecord {
  id: string;
  orgId: string;
  name: string;
  /** Display prefix, `sk-sy-` + 8 characters. */
  prefix: string;
  scopes: Scope[];
  /** Catalogue model names; empty = every model the organization may use. */
  allowedModels: string[];
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdByKeyId: string | null;
  rotatedFromId: string | null;
  createdAt: Date;
}

/** A key row about to be written: the secret is already reduced to its hash and prefix. */
export interface NewApiKey {
  id: string;
  orgId: string;
  name: string;
  hash: string;
  prefix: string;
  scopes: Scope[];
  allowedModels: string[];
  expiresAt: Date | null;
  createdByKeyId: string | null;
  rotatedFromId: string | null;
}

export interface AuditEntry {
  actorKeyId: string | null;
  actorKeyPrefix: string | null;
  actorOrgId: string | null;
  action: string;
  orgId: string | null;
  targetType: 'organization' | 'api_key' | 'limit_policy' | 'model' | 'pool';
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  id: string;
  createdAt: Date;
}

export interface PageQuery {
  limit: number;
  /** Id of the last item of the previous page. */
  after?: string;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}
