import type { PoolConfig, RuntimeKind } from '../config/index.js';

/** A model as the hot path sees it: everything routing, prompt processing and metering need. */
export interface CatalogModel {
  name: string;
  kind: 'chat' | 'embedding';
  aliases: string[];
  pool: string;
  runtime: RuntimeKind;
  /** Name to send upstream (the runtime's served model name). */
  servedModel: string;
  contextWindow: number;
  maxOutputTokens: number | null;
  tokenizer: string;
  inputPricePerMTok: number;
  outputPricePerMTok: number;
  capabilities: Record<string, boolean>;
  fallbacks: string[];
  ownedBy: string;
  createdAt: Date;
}

export interface CatalogPool {
  name: string;
  runtime: RuntimeKind;
  provider: PoolConfig['provider'];
  servedModel: string;
  replicas: number;
  template: Pick<PoolConfig, 'sim' | 'local' | 'endpoints' | 'kubernetes'>;
}
