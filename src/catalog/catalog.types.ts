import type { PoolConfig, RuntimeKind } from '../config/index.js';

/** A model as the hot path sees it: everything routing, prompt processing and metering need. */
export interface CatalogModel extends ModelDefinition {
  runtime: RuntimeKind;
  /** Name to send upstream (the runtime's served model name). */
  servedModel: string;
  createdAt: Date;
}

/** A pool's definition as the admin API and the config file give it (the provider's block in `template`). */
export interface PoolDefinition {
  name: string;
  runtime: RuntimeKind;
  provider: PoolConfig['provider'];
  servedModel: string;
  replicas: number;
  template: Pick<PoolConfig, 'sim' | 'local' | 'endpoints' | 'kubernetes'>;
}

export interface CatalogPool extends PoolDefinition {
  /** Created or changed through the admin API: served whether or not the config file names it, never overwritten by it. */
  managed: boolean;
}

/** A model's definition as the admin API and the config file give it. */
export interface ModelDefinition {
  name: string;
  kind: 'chat' | 'embedding';
  aliases: string[];
  pool: string;
  contextWindow: number;
  maxOutputTokens: number | null;
  tokenizer: string;
  inputPricePerMTok: number;
  outputPricePerMTok: number;
  capabilities: Record<string, boolean>;
  fallbacks: string[];
  ownedBy: string;
}

/** An update: the fields given replace the stored ones (the name never changes). */
export type ModelChanges = Partial<Omit<ModelDefinition, 'name'>>;

/**
 * The audit row written in the same transaction as a catalogue change. Structurally tenancy's
 * AuditEntry (catalog sits below tenancy, so it cannot name that type).
 */
export interface CatalogAuditEntry {
  actorKeyId: string | null;
  actorKeyPrefix: string | null;
  actorOrgId: string | null;
  action: string;
  orgId: string | null;
  targetType: string;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}
