/**
 * The one typed configuration object, validated once at boot. Nothing else reads process.env.
 * Sources: SWITCHYARD_* environment variables, plus an optional YAML/JSON file (SWITCHYARD_CONFIG_FILE)
 * holding the model catalogue and pools. A bad setting stops start-up with a message naming it.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { API_KEY_FORMAT } from '../auth/api-key.secret.js';
import { TOKENIZER_IDS } from '../prompt/tokenizer.js';
import { TIERS, type Tier } from '../auth/principal.js';
import { DEFAULT_TIER_LIMITS, LIMIT_FIELDS, type Limits } from '../quota/limits.js';

export type RuntimeKind = 'sim' | 'vllm' | 'trtllm';

export interface PoolConfig {
  name: string;
  runtime: RuntimeKind;
  provider: 'local' | 'static';
  /** Model name the runtime serves (vLLM --served-model-name). */
  servedModel: string;
  replicas: number;
  /**
   * local provider: the simulator (runtimes/sim) with this profile and extra CLI flags — shorthand for
   * `local.command` = node dist/runtimes/sim/main.js --model {model} --profile <profile> --host {host} --port {port} <args>.
   */
  sim?: { profile: string; args?: string[] };
  /** local provider: any command that runs one pod (e.g. `vllm serve`); see LocalPodCommand. */
  local?: LocalPodCommand;
  /** static provider: base URLs of already running pods. */
  endpoints?: string[];
}

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

export interface ModelConfig {
  name: string;
  kind: 'chat' | 'embedding';
  aliases: string[];
  pool: string;
  contextWindow: number;
  maxOutputTokens?: number;
  tokenizer: string;
  inputPricePerMTok: number;
  outputPricePerMTok: number;
  capabilities: Record<string, boolean>;
  fallbacks: string[];
  ownedBy: string;
}

export interface CatalogueConfig {
  pools: PoolConfig[];
  models: ModelConfig[];
  /** Per-tier default limits; fields left out keep the built-in defaults (src/quota/limits.ts). */
  tiers?: Partial<Record<Tier, Partial<Limits>>>;
}

// --- routing and scheduling settings (src/routing, src/scheduler, src/fleet) -------------------------
export type RoutingPolicyName = 'round-robin' | 'least-load' | 'prefix-load';
export const ROUTING_POLICIES: readonly RoutingPolicyName[] = ['round-robin', 'least-load', 'prefix-load'];
/** Strict priority between classes, fair share between organizations inside one. */
export type PriorityClass = 'interactive' | 'flex' | 'batch';

export interface SchedulingConfig {
  /** How a pod is chosen among those with headroom. */
  policy: RoutingPolicyName;
  /** Admission budget of a pod (docs/architecture.md, "Admission"). */
  maxInFlightPerPod: number;
  prefillBudgetTokens: number;
  /** A pod whose oldest prefill of ours has waited this long for its first token takes nothing new. */
  prefillStallMs: number;
  /** KV-cache usage (0–1) above which a pod takes nothing new until one of our requests finishes. */
  kvHighWatermark: number;
  /** Requests waiting in the gateway per pool, and per organization within a pool. */
  maxQueuedPerPool: number;
  maxQueuedPerOrg: number;
  /** Longest wait in the queue before shedding (0 = no deadline). */
  queueTimeoutMs: Record<PriorityClass, number>;
  /** Attempts per pool before the first byte (the first try plus retries on other pods). */
  maxAttempts: number;
  /** Tiers sent down a model's fallback chain when its pool is saturated (others wait for it). */
  saturationFallbackTiers: Tier[];
  /** Prefix affinity: prompt text hashed in blocks of `blockChars`, at most `maxBlocks` of them. */
  prefix: { blockChars: number; maxBlocks: number; affinityEntriesPerPool: number };
  /** Bounded load: no pod gets more than this factor × the pool's mean in-flight (+1) for affinity. */
  boundedLoadFactor: number;
  fleet: {
    scrapeIntervalMs: number;
    probeTimeoutMs: number;
    breaker: { failuresToEject: number; probeFailuresToEject: number; ejectBaseMs: number; ejectMaxMs: number };
  };
  /** BullMQ workers per pool feeding deferred (batch) work into the scheduler; 0 = none on this replica. */
  deferredWorkersPerPool: number;
}
// --- end of routing and scheduling settings ----------------------------------------------------------

export interface AppConfig {
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  databaseUrl: string;
  /** Apply committed migrations (prisma migrate deploy) before serving. */
  migrateOnStart: boolean;
  redisUrl: string;
  /**
   * Server secret mixed into every API key hash (HMAC-SHA256). Shared by all replicas; changing it
   * invalidates every key.
   */
  keyPepper: string;
  /**
   * Optional platform-admin key of the system organization, ensured at boot (created if its hash is not
   * stored yet; never resurrected once revoked). The alternative is `switchyard-admin create-platform-key`.
   */
  bootstrapApiKey?: string;
  /** In-process principal cache in front of the api_keys table; invalidated over Redis pub/sub. */
  auth: { cacheTtlMs: number; negativeCacheTtlMs: number; cacheMaxEntries: number };
  bodyLimitBytes: number;
  /** Prompt processing: when to tokenize off the event loop, and request-shape limits against abuse. */
  prompt: {
    offloadBytes: number;
    workers: number;
    maxMessages: number;
    maxMessageChars: number;
    maxTools: number;
    maxSchemaDepth: number;
  };
  /** Pre-auth protection per client IP (0 = off); trustProxy makes the client IP come from X-Forwarded-For. */
  edge: { ipRequestsPerMinute: number; adminIpRequestsPerMinute: number; trustProxy: boolean };
  /** Rate limits, quotas and budgets. */
  quota: {
    tiers: Record<Tier, Limits>;
    /** Concurrency leases expire this long after their last renewal (a dead gateway's lapse). */
    leaseMs: number;
    /** When Redis is unreachable: refuse ('closed') or admit unchecked ('open'). */
    failMode: { rate: 'open' | 'closed'; spend: 'open' | 'closed' };
  };
  /** Model routing, admission scheduling, pod health. */
  scheduling: SchedulingConfig;
  shutdownGraceMs: number;
  upstream: { connectTimeoutMs: number; headersTimeoutMs: number; bodyTimeoutMs: number; connectionsPerPod: number };
  catalogue: CatalogueConfig;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

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

const ajv = new Ajv({ useDefaults: true, allErrors: true });
const validateCatalogue = ajv.compile<CatalogueConfig>(catalogueSchema);

function intSetting(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function enumSetting<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = (env[name] || fallback) as T;
  if (!allowed.includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw;
}

function urlSetting(env: Env, name: string, fallback: string, protocols: string[]): string {
  const raw = env[name] || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: "${raw}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${url.protocol}"`);
  }
  return raw;
}

export function parseCatalogue(raw: unknown, source: string): CatalogueConfig {
  const value = structuredClone(raw ?? {}) as CatalogueConfig;
  if (!validateCatalogue(value)) {
    const first = validateCatalogue.errors![0]!;
    throw new ConfigError(`${source}: ${first.instancePath || '/'} ${first.message}`);
  }
  const pools = new Set<string>();
  for (const pool of value.pools) {
    if (pools.has(pool.name)) throw new ConfigError(`${source}: duplicate pool "${pool.name}"`);
    pools.add(pool.name);
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

export function loadCatalogueFile(path: string): CatalogueConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`SWITCHYARD_CONFIG_FILE: cannot read "${path}": ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`SWITCHYARD_CONFIG_FILE: "${path}" is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  return parseCatalogue(raw, path);
}

// --- routing and scheduling settings ------------------------------------------------------------------
function tierListSetting(env: Env, name: string, fallback: string): Tier[] {
  const raw = env[name] ?? fallback;
  const tiers = raw.split(',').map((t) => t.trim()).filter(Boolean);
  for (const tier of tiers) {
    if (!TIERS.includes(tier as Tier)) throw new ConfigError(`${name} must be a comma-separated list of ${TIERS.join(', ')}, got "${raw}"`);
  }
  return tiers as Tier[];
}

function loadSchedulingConfig(env: Env): SchedulingConfig {
  const ejectBaseMs = intSetting(env, 'SWITCHYARD_BREAKER_EJECT_BASE_MS', 2_000, 100, 600_000);
  const ejectMaxMs = intSetting(env, 'SWITCHYARD_BREAKER_EJECT_MAX_MS', 30_000, 100, 3_600_000);
  if (ejectMaxMs < ejectBaseMs) throw new ConfigError('SWITCHYARD_BREAKER_EJECT_MAX_MS must be at least SWITCHYARD_BREAKER_EJECT_BASE_MS');
  const scrapeIntervalMs = intSetting(env, 'SWITCHYARD_FLEET_SCRAPE_INTERVAL_MS', 1_000, 100, 60_000);
  return {
    policy: enumSetting(env, 'SWITCHYARD_ROUTING_POLICY', 'prefix-load', ROUTING_POLICIES),
    maxInFlightPerPod: intSetting(env, 'SWITCHYARD_SCHED_MAX_IN_FLIGHT_PER_POD', 256, 1, 100_000),
    prefillBudgetTokens: intSetting(env, 'SWITCHYARD_SCHED_PREFILL_BUDGET_TOKENS', 8_192, 1, 10_000_000),
    prefillStallMs: intSetting(env, 'SWITCHYARD_SCHED_PREFILL_STALL_MS', 1_000, 0, 600_000),
    kvHighWatermark: intSetting(env, 'SWITCHYARD_SCHED_KV_HIGH_WATERMARK_PCT', 90, 1, 100) / 100,
    maxQueuedPerPool: intSetting(env, 'SWITCHYARD_SCHED_MAX_QUEUED', 2_048, 0, 1_000_000),
    maxQueuedPerOrg: intSetting(env, 'SWITCHYARD_SCHED_MAX_QUEUED_PER_ORG', 512, 0, 1_000_000),
    queueTimeoutMs: {
      interactive: intSetting(env, 'SWITCHYARD_SCHED_TIMEOUT_INTERACTIVE_MS', 30_000, 0, 3_600_000),
      flex: intSetting(env, 'SWITCHYARD_SCHED_TIMEOUT_FLEX_MS', 600_000, 0, 24 * 3_600_000),
      batch: intSetting(env, 'SWITCHYARD_SCHED_TIMEOUT_BATCH_MS', 0, 0, 7 * 24 * 3_600_000),
    },
    maxAttempts: intSetting(env, 'SWITCHYARD_DISPATCH_MAX_ATTEMPTS', 3, 1, 10),
    saturationFallbackTiers: tierListSetting(env, 'SWITCHYARD_FALLBACK_ON_SATURATION_TIERS', 'free'),
    prefix: {
      blockChars: intSetting(env, 'SWITCHYARD_PREFIX_BLOCK_CHARS', 256, 16, 65_536),
      maxBlocks: intSetting(env, 'SWITCHYARD_PREFIX_MAX_BLOCKS', 256, 1, 65_536),
      affinityEntriesPerPool: intSetting(env, 'SWITCHYARD_PREFIX_AFFINITY_ENTRIES', 200_000, 1_000, 100_000_000),
    },
    boundedLoadFactor: intSetting(env, 'SWITCHYARD_ROUTING_BOUNDED_LOAD_PCT', 150, 100, 10_000) / 100,
    fleet: {
      scrapeIntervalMs,
      probeTimeoutMs: intSetting(env, 'SWITCHYARD_FLEET_PROBE_TIMEOUT_MS', Math.min(1_000, scrapeIntervalMs), 10, 60_000),
      breaker: {
        failuresToEject: intSetting(env, 'SWITCHYARD_BREAKER_FAILURES', 3, 1, 1_000),
        probeFailuresToEject: intSetting(env, 'SWITCHYARD_BREAKER_PROBE_FAILURES', 2, 1, 1_000),
        ejectBaseMs,
        ejectMaxMs,
      },
    },
    deferredWorkersPerPool: intSetting(env, 'SWITCHYARD_DEFERRED_WORKERS_PER_POOL', 4, 0, 1_000),
  };
}
// --- end of routing and scheduling settings ----------------------------------------------------------

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Builds the config from env (and the catalogue file it names, unless a catalogue is given). */
export function loadConfig(env: Env = process.env, catalogue?: CatalogueConfig): AppConfig {
  const logLevel = (env.SWITCHYARD_LOG_LEVEL || 'info') as AppConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`SWITCHYARD_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const keyPepper = env.SWITCHYARD_KEY_PEPPER ?? '';
  if (keyPepper.length < 32) {
    throw new ConfigError('SWITCHYARD_KEY_PEPPER must be set to a random secret of at least 32 characters (e.g. `openssl rand -base64 32`), the same on every replica');
  }
  const bootstrapApiKey = env.SWITCHYARD_BOOTSTRAP_API_KEY || undefined;
  if (bootstrapApiKey !== undefined && !API_KEY_FORMAT.test(bootstrapApiKey)) {
    // Never echo the value: it is a secret.
    throw new ConfigError('SWITCHYARD_BOOTSTRAP_API_KEY must look like sk-sy-<32 to 128 letters, digits, - or _>');
  }
  const file = env.SWITCHYARD_CONFIG_FILE;
  if (!catalogue && !file) throw new ConfigError('SWITCHYARD_CONFIG_FILE must name the model catalogue (YAML or JSON)');
  const cat = catalogue ?? loadCatalogueFile(file!);
  return {
    host: env.SWITCHYARD_HOST || '127.0.0.1',
    port: intSetting(env, 'SWITCHYARD_PORT', 8080, 0, 65535),
    logLevel,
    databaseUrl: urlSetting(env, 'SWITCHYARD_DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/switchyard', ['postgresql:', 'postgres:']),
    migrateOnStart: enumSetting(env, 'SWITCHYARD_MIGRATE_ON_START', 'true', ['true', 'false'] as const) === 'true',
    redisUrl: urlSetting(env, 'SWITCHYARD_REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    keyPepper,
    bootstrapApiKey,
    auth: {
      cacheTtlMs: intSetting(env, 'SWITCHYARD_AUTH_CACHE_TTL_MS', 30_000, 0, 3_600_000),
      negativeCacheTtlMs: intSetting(env, 'SWITCHYARD_AUTH_NEGATIVE_CACHE_TTL_MS', 2_000, 0, 60_000),
      cacheMaxEntries: intSetting(env, 'SWITCHYARD_AUTH_CACHE_MAX_ENTRIES', 100_000, 1, 10_000_000),
    },
    bodyLimitBytes: intSetting(env, 'SWITCHYARD_BODY_LIMIT_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    prompt: {
      offloadBytes: intSetting(env, 'SWITCHYARD_PROMPT_OFFLOAD_BYTES', 16 * 1024, 0, 1024 * 1024 * 1024),
      workers: intSetting(env, 'SWITCHYARD_PROMPT_WORKERS', 1, 1, 64),
      maxMessages: intSetting(env, 'SWITCHYARD_MAX_MESSAGES', 2048, 1, 100_000),
      maxMessageChars: intSetting(env, 'SWITCHYARD_MAX_MESSAGE_CHARS', 4 * 1024 * 1024, 1, 256 * 1024 * 1024),
      maxTools: intSetting(env, 'SWITCHYARD_MAX_TOOLS', 128, 0, 10_000),
      maxSchemaDepth: intSetting(env, 'SWITCHYARD_MAX_SCHEMA_DEPTH', 10, 1, 100),
    },
    edge: {
      ipRequestsPerMinute: intSetting(env, 'SWITCHYARD_IP_REQUESTS_PER_MINUTE', 6_000, 0, 10_000_000),
      adminIpRequestsPerMinute: intSetting(env, 'SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE', 120, 0, 10_000_000),
      trustProxy: enumSetting(env, 'SWITCHYARD_TRUST_PROXY', 'false', ['true', 'false'] as const) === 'true',
    },
    quota: {
      tiers: Object.fromEntries(TIERS.map((t) => [t, { ...DEFAULT_TIER_LIMITS[t], ...(cat.tiers?.[t] ?? {}) }])) as Record<Tier, Limits>,
      leaseMs: intSetting(env, 'SWITCHYARD_QUOTA_LEASE_MS', 60_000, 1_000, 3_600_000),
      failMode: {
        rate: enumSetting(env, 'SWITCHYARD_QUOTA_FAIL_MODE_RATE', 'open', ['open', 'closed'] as const),
        spend: enumSetting(env, 'SWITCHYARD_QUOTA_FAIL_MODE_SPEND', 'closed', ['open', 'closed'] as const),
      },
    },
    scheduling: loadSchedulingConfig(env),
    shutdownGraceMs: intSetting(env, 'SWITCHYARD_SHUTDOWN_GRACE_MS', 30_000, 0, 600_000),
    upstream: {
      connectTimeoutMs: intSetting(env, 'SWITCHYARD_UPSTREAM_CONNECT_TIMEOUT_MS', 2_000, 1, 60_000),
      headersTimeoutMs: intSetting(env, 'SWITCHYARD_UPSTREAM_HEADERS_TIMEOUT_MS', 600_000, 1, 3_600_000),
      bodyTimeoutMs: intSetting(env, 'SWITCHYARD_UPSTREAM_BODY_TIMEOUT_MS', 120_000, 1, 3_600_000),
      connectionsPerPod: intSetting(env, 'SWITCHYARD_UPSTREAM_CONNECTIONS_PER_POD', 256, 1, 10_000),
    },
    catalogue: cat,
  };
}

/** Injection token for AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
