/** Who is calling: the organization and key behind a request, with what the key may do. */
import type { Tier } from '../config/index.js';

/**
 * `inference`: /v1 model endpoints. `files`: files and batches. `org_admin`: the admin API for the key's
 * own organization. `platform_admin`: the admin API for every organization (system organization only).
 */
export const SCOPES = ['inference', 'files', 'org_admin', 'platform_admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  readonly orgId: string;
  readonly keyId: string;
  /** Display prefix of the key (`sk-sy-` + 8 characters), never the secret: safe for logs. */
  readonly keyPrefix: string;
  readonly tier: Tier;
  readonly scopes: ReadonlySet<Scope>;
  /**
   * Catalogue model names this key may use (its own list within its organization's), or null for every
   * model. An empty set means none.
   */
  readonly allowedModels: ReadonlySet<string> | null;
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope);
}

export function canUseModel(principal: Principal, modelName: string): boolean {
  return principal.allowedModels === null || principal.allowedModels.has(modelName);
}

/**
 * The effective allow-list of a key: the intersection of its organization's and its own, where an empty
 * stored list means "no restriction at this level".
 */
export function effectiveAllowList(orgModels: readonly string[], keyModels: readonly string[]): ReadonlySet<string> | null {
  if (!orgModels.length && !keyModels.length) return null;
  if (!orgModels.length) return new Set(keyModels);
  if (!keyModels.length) return new Set(orgModels);
  const org = new Set(orgModels);
  return new Set(keyModels.filter((m) => org.has(m)));
}
