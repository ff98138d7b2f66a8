/**
 * Every SWITCHYARD_* environment variable, declared once: name, default, accepted values, description,
 * whether it is sensitive. loadConfig reads the environment through this list alone, and the README's
 * table is generated from it (`npm run docs:settings`; settings.spec.ts fails when they differ).
 * Order and groups here are the README's.
 */
import { ConfigError } from './config-error.js';
import { PREFIX_CACHE_SCOPES, ROUTING_POLICIES } from './scheduling.js';
import { addressList, flag, hostList, int, listOf, oneOf, optionalInt, secret, text, url, type Env, type Setting } from './setting.js';
import { TIERS } from './tiers.js';

/**
 * What the gateway accepts as an API key: `sk-sy-` and 32 to 128 base64url characters (generated keys
 * are 43 base62 characters; a configured bootstrap key may be any base64url string).
 */
export const API_KEY_FORMAT = /^sk-sy-[A-Za-z0-9_-]{32,128}$/;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MS_HOUR = 3_600_000;
const MiB = 1024 * 1024;

export const SETTINGS = {
  // --- server
  configFile: text({
    name: 'SWITCHYARD_CONFIG_FILE',
    group: 'server',
    accepts: 'path to a .yaml/.yml or .json file',
    requiredByLoader: true,
    shownDefault: 'none (`npm start`: config/switchyard.yaml)',
    description: 'the model catalogue, pools and tier limits (YAML or JSON)',
  }),
  host: text({ name: 'SWITCHYARD_HOST', group: 'server', default: '127.0.0.1', accepts: 'host name or IP address', description: 'listen address' }),
  port: int({ name: 'SWITCHYARD_PORT', group: 'server', default: 8080, min: 0, max: 65535, description: 'listen port (0 = any free port)' }),
  logLevel: oneOf({ name: 'SWITCHYARD_LOG_LEVEL', group: 'server', default: 'info', values: LOG_LEVELS, description: 'JSON logs (pino) at this level and above' }),
  bodyLimitBytes: int({
    name: 'SWITCHYARD_BODY_LIMIT_BYTES',
    group: 'server',
    default: 8 * MiB,
    min: 1024,
    max: 256 * MiB,
    shownDefault: '8388608 (8 MiB)',
    description: 'larger request bodies get 413',
  }),
  bodyDrainBytes: int({
    name: 'SWITCHYARD_BODY_DRAIN_BYTES',
    group: 'server',
    default: 64 * MiB,
    min: 0,
    max: 1024 * MiB,
    shownDefault: '67108864 (64 MiB)',
    description: 'how much of a body over the limit is read and discarded so the client can read its 413 (declared or sent beyond that: answered and closed at once)',
  }),
  shutdownGraceMs: int({ name: 'SWITCHYARD_SHUTDOWN_GRACE_MS', group: 'server', default: 30_000, min: 0, max: 600_000, description: 'how long SIGTERM waits for in-flight requests and streams' }),
  readyCheckTtlMs: int({
    name: 'SWITCHYARD_READY_CHECK_TTL_MS',
    group: 'server',
    default: 2_000,
    min: 0,
    max: 60_000,
    description: '/ready reuses its PostgreSQL and Redis checks for this long (concurrent probes share one check)',
  }),
  metricsToken: secret({
    name: 'SWITCHYARD_METRICS_TOKEN',
    group: 'server',
    format: /^[A-Za-z0-9._~+/=-]{32,256}$/,
    formatHint: '32 to 256 bearer-token characters (letters, digits, - . _ ~ + / =), e.g. `openssl rand -hex 32`',
    shownDefault: 'none (only loopback callers)',
    description:
      '/metrics and /ready?detail=1 require `Authorization: Bearer <token>`; without a token only callers on the loopback interface (not behind a forwarding proxy) get them',
  }),

  // --- storage
  databaseUrl: url({
    name: 'SWITCHYARD_DATABASE_URL',
    group: 'storage',
    default: 'postgresql://postgres@127.0.0.1:5432/switchyard',
    protocols: ['postgresql:', 'postgres:'],
    description: 'PostgreSQL: tenants, keys, the catalogue, limit policies, the audit log',
  }),
  migrateOnStart: flag({ name: 'SWITCHYARD_MIGRATE_ON_START', group: 'storage', default: true, description: 'apply committed migrations (`prisma migrate deploy`) before serving' }),
  redisUrl: url({
    name: 'SWITCHYARD_REDIS_URL',
    group: 'storage',
    default: 'redis://127.0.0.1:6379',
    protocols: ['redis:', 'rediss:'],
    description: 'Redis: rate limits and budgets, cache invalidation, per-IP limits, deferred-work queues',
  }),

  // --- keys
  keyPepper: secret({
    name: 'SWITCHYARD_KEY_PEPPER',
    group: 'keys',
    required: true,
    minLength: 32,
    formatHint: 'a random secret of at least 32 characters (e.g. `openssl rand -base64 32`), the same on every replica',
    shownDefault: 'none (`npm start` generates .switchyard/key-pepper)',
    description: 'mixed into every API key hash (HMAC-SHA256); the same on every replica; changing it invalidates every key',
  }),
  bootstrapApiKey: secret({
    name: 'SWITCHYARD_BOOTSTRAP_API_KEY',
    group: 'keys',
    format: API_KEY_FORMAT,
    formatHint: 'an API key like sk-sy-<32 to 128 letters, digits, - or _>',
    shownDefault: 'none (`npm start` generates .switchyard/admin-key)',
    description:
      'a platform-admin key of the system organization, registered at boot if its hash is not stored yet (never re-created once revoked); the alternative is `npm run admin -- create-platform-key`',
  }),
  authCacheTtlMs: int({
    name: 'SWITCHYARD_AUTH_CACHE_TTL_MS',
    group: 'keys',
    default: 30_000,
    min: 0,
    max: MS_HOUR,
    description: 'in-process key cache lifetime; invalidated over Redis, so the TTL only bounds staleness when a broadcast cannot be sent',
  }),
  authNegativeCacheTtlMs: int({ name: 'SWITCHYARD_AUTH_NEGATIVE_CACHE_TTL_MS', group: 'keys', default: 2_000, min: 0, max: 60_000, description: 'how long an unknown key is remembered as unknown' }),
  authCacheMaxEntries: int({ name: 'SWITCHYARD_AUTH_CACHE_MAX_ENTRIES', group: 'keys', default: 100_000, min: 1, max: 10_000_000, description: 'valid keys held in the in-process cache' }),
  authNegativeCacheMaxEntries: int({
    name: 'SWITCHYARD_AUTH_NEGATIVE_CACHE_MAX_ENTRIES',
    group: 'keys',
    default: 10_000,
    min: 1,
    max: 10_000_000,
    description: 'unknown and revoked keys held in their own cache (a flood of random keys evicts only these, never valid keys)',
  }),

  // --- edge
  ipRequestsPerMinute: int({ name: 'SWITCHYARD_IP_REQUESTS_PER_MINUTE', group: 'edge', default: 6_000, min: 0, max: 10_000_000, description: 'requests per client IP per minute on /v1, before authentication (0 = off)' }),
  adminIpRequestsPerMinute: int({ name: 'SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE', group: 'edge', default: 120, min: 0, max: 10_000_000, description: 'the same on /admin/v1 (0 = off)' }),
  trustedProxies: addressList({
    name: 'SWITCHYARD_TRUSTED_PROXIES',
    group: 'edge',
    default: [],
    description:
      'proxies whose X-Forwarded-For is believed: the client address is the last one before a trusted hop (empty = the socket address; replaces SWITCHYARD_TRUST_PROXY)',
  }),
  authFailuresPerMinute: int({
    name: 'SWITCHYARD_AUTH_FAILURES_PER_MINUTE',
    group: 'edge',
    default: 30,
    min: 0,
    max: 1_000_000,
    description: 'failed authentications (401) per client address per minute, on /v1 and the admin API; past it the address gets 429 for a minute, except with keys already cached as valid (0 = off)',
  }),
  headersTimeoutMs: int({ name: 'SWITCHYARD_HEADERS_TIMEOUT_MS', group: 'edge', default: 15_000, min: 100, max: 600_000, description: 'a request\'s headers must arrive within this from its first byte (else 408, connection closed)' }),
  requestTimeoutMs: int({
    name: 'SWITCHYARD_REQUEST_TIMEOUT_MS',
    group: 'edge',
    default: 60_000,
    min: 100,
    max: MS_HOUR,
    description: 'the whole request, headers and body, must arrive within this (else 408, connection closed); at least the headers timeout',
  }),
  keepAliveTimeoutMs: int({
    name: 'SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS',
    group: 'edge',
    default: 72_000,
    min: 100,
    max: MS_HOUR,
    description: 'an idle keep-alive connection is closed after this (longer than a load balancer\'s idle timeout, so the balancer closes first)',
  }),
  streamStallTimeoutMs: int({
    name: 'SWITCHYARD_STREAM_STALL_TIMEOUT_MS',
    group: 'edge',
    default: 30_000,
    min: 100,
    max: 600_000,
    description: 'a stream whose client has read nothing for this long (its socket buffer does not drain) is ended, its pod slot freed and its quota settled with what was generated',
  }),

  // --- prompt
  promptOffloadBytes: int({
    name: 'SWITCHYARD_PROMPT_OFFLOAD_BYTES',
    group: 'prompt',
    default: 16 * 1024,
    min: 0,
    max: 1024 * MiB,
    shownDefault: '16384 (16 KiB)',
    description: 'request bodies above this are tokenized in worker threads, off the event loop',
  }),
  promptWorkers: int({ name: 'SWITCHYARD_PROMPT_WORKERS', group: 'prompt', default: 1, min: 1, max: 64, description: 'worker threads for large prompts' }),
  promptQueueMax: int({
    name: 'SWITCHYARD_PROMPT_QUEUE_MAX',
    group: 'prompt',
    default: 64,
    min: 0,
    max: 100_000,
    description: 'large prompts waiting for a worker thread; when full, 503 server_overloaded with retry-after',
  }),
  maxMessages: int({ name: 'SWITCHYARD_MAX_MESSAGES', group: 'prompt', default: 2048, min: 1, max: 100_000, description: 'messages per request (more: 400)' }),
  maxMessageChars: int({
    name: 'SWITCHYARD_MAX_MESSAGE_CHARS',
    group: 'prompt',
    default: 4 * MiB,
    min: 1,
    max: 256 * MiB,
    shownDefault: '4194304 (4 Mi)',
    description: 'characters per message (more: 400)',
  }),
  maxSequencesPerRequest: int({
    name: 'SWITCHYARD_MAX_SEQUENCES_PER_REQUEST',
    group: 'prompt',
    default: 256,
    min: 1,
    max: 1_000_000,
    description: 'sequences one request may make the runtime generate: prompts × max(`n`, `best_of`) (more: 400)',
  }),
  maxTools: int({ name: 'SWITCHYARD_MAX_TOOLS', group: 'prompt', default: 128, min: 0, max: 10_000, description: 'tools per request (more: 400)' }),
  maxSchemaDepth: int({ name: 'SWITCHYARD_MAX_SCHEMA_DEPTH', group: 'prompt', default: 10, min: 1, max: 100, description: 'nesting depth of a tool or response-format JSON schema (deeper: 400)' }),
  imageUrlHosts: hostList({
    name: 'SWITCHYARD_IMAGE_URL_HOSTS',
    group: 'prompt',
    description: 'hosts a chat `image_url` may name with http(s) (`*.example.com` = any subdomain); the runtime fetches them. Empty: only data: URLs, remote images get 400',
  }),
  maxImageUrlBytes: int({
    name: 'SWITCHYARD_MAX_IMAGE_URL_BYTES',
    group: 'prompt',
    default: 4 * MiB,
    min: 1024,
    max: 256 * MiB,
    shownDefault: '4194304 (4 MiB)',
    description: 'characters of one `image_url.url` (a base64 data: URL holds the image itself; longer: 400)',
  }),

  // --- quota
  quotaLeaseMs: int({
    name: 'SWITCHYARD_QUOTA_LEASE_MS',
    group: 'quota',
    default: 60_000,
    min: 1_000,
    max: MS_HOUR,
    description: 'a concurrency lease lapses this long after its last renewal (a gateway that died)',
  }),
  quotaFailModeRate: oneOf({
    name: 'SWITCHYARD_QUOTA_FAIL_MODE_RATE',
    group: 'quota',
    default: 'open',
    values: ['open', 'closed'],
    description: 'while Redis is unreachable, rate and concurrency limits admit unchecked (open) or refuse (closed)',
  }),
  quotaFailModeSpend: oneOf({
    name: 'SWITCHYARD_QUOTA_FAIL_MODE_SPEND',
    group: 'quota',
    default: 'closed',
    values: ['open', 'closed'],
    description: 'the same for spend budgets',
  }),

  // --- routing
  routingPolicy: oneOf({ name: 'SWITCHYARD_ROUTING_POLICY', group: 'routing', default: 'prefix-load', values: ROUTING_POLICIES, description: 'how a pod is chosen among those with headroom' }),
  routingBoundedLoadPct: int({
    name: 'SWITCHYARD_ROUTING_BOUNDED_LOAD_PCT',
    group: 'routing',
    default: 150,
    min: 100,
    max: 10_000,
    description: 'prefix-load: affinity never sends a pod more than this % of the pool’s mean in-flight (+1)',
  }),
  prefixBlockChars: int({ name: 'SWITCHYARD_PREFIX_BLOCK_CHARS', group: 'routing', default: 256, min: 16, max: 65_536, description: 'prompt text is hashed in blocks of this many characters' }),
  prefixMaxBlocks: int({ name: 'SWITCHYARD_PREFIX_MAX_BLOCKS', group: 'routing', default: 256, min: 1, max: 65_536, description: 'blocks hashed per prompt, at most' }),
  prefixAffinityEntries: int({
    name: 'SWITCHYARD_PREFIX_AFFINITY_ENTRIES',
    group: 'routing',
    default: 200_000,
    min: 1_000,
    max: 100_000_000,
    description: 'upper bound of the prefix-affinity table per pool',
  }),
  fallbackOnSaturationTiers: listOf({
    name: 'SWITCHYARD_FALLBACK_ON_SATURATION_TIERS',
    group: 'routing',
    default: ['free'],
    values: TIERS,
    description: 'tiers sent down a model’s fallback chain when its pool is saturated (the others wait for it)',
  }),
  prefixCacheScope: oneOf({
    name: 'SWITCHYARD_PREFIX_CACHE_SCOPE',
    group: 'routing',
    default: 'organization',
    values: PREFIX_CACHE_SCOPES,
    description: 'whose requests may reuse each other’s prefix-cache blocks on a pod: each organization its own (a per-organization `cache_salt`), or everyone (shared)',
  }),

  // --- scheduling
  schedMaxInFlightPerPod: int({
    name: 'SWITCHYARD_SCHED_MAX_IN_FLIGHT_PER_POD',
    group: 'scheduling',
    default: 256,
    min: 1,
    max: 100_000,
    description: 'requests per pod (ours and other replicas’)',
  }),
  schedPrefillBudgetTokens: int({
    name: 'SWITCHYARD_SCHED_PREFILL_BUDGET_TOKENS',
    group: 'scheduling',
    default: 8_192,
    min: 1,
    max: 10_000_000,
    description: 'prompt tokens pending prefill per pod',
  }),
  schedPrefillStallMs: int({
    name: 'SWITCHYARD_SCHED_PREFILL_STALL_MS',
    group: 'scheduling',
    default: 1_000,
    min: 0,
    max: 600_000,
    description: 'a pod whose oldest pending prefill of ours is older takes nothing new (0 = off)',
  }),
  schedKvHighWatermarkPct: int({
    name: 'SWITCHYARD_SCHED_KV_HIGH_WATERMARK_PCT',
    group: 'scheduling',
    default: 90,
    min: 1,
    max: 100,
    description: 'KV-cache usage at which a pod takes nothing new until one of our requests finishes',
  }),
  schedMaxQueued: int({ name: 'SWITCHYARD_SCHED_MAX_QUEUED', group: 'scheduling', default: 2_048, min: 0, max: 1_000_000, description: 'requests waiting in the gateway per pool' }),
  schedMaxQueuedPerOrg: int({ name: 'SWITCHYARD_SCHED_MAX_QUEUED_PER_ORG', group: 'scheduling', default: 512, min: 0, max: 1_000_000, description: 'requests waiting per organization within a pool' }),
  schedTimeoutInteractiveMs: int({
    name: 'SWITCHYARD_SCHED_TIMEOUT_INTERACTIVE_MS',
    group: 'scheduling',
    default: 30_000,
    min: 0,
    max: MS_HOUR,
    description: 'longest queue wait of an interactive request (0 = none)',
  }),
  schedTimeoutFlexMs: int({
    name: 'SWITCHYARD_SCHED_TIMEOUT_FLEX_MS',
    group: 'scheduling',
    default: 600_000,
    min: 0,
    max: 24 * MS_HOUR,
    description: 'longest queue wait of a flex request (0 = none)',
  }),
  schedTimeoutBatchMs: int({
    name: 'SWITCHYARD_SCHED_TIMEOUT_BATCH_MS',
    group: 'scheduling',
    default: 0,
    min: 0,
    max: 7 * 24 * MS_HOUR,
    description: 'longest queue wait of a batch request (0 = none)',
  }),
  deferredWorkersPerPool: int({
    name: 'SWITCHYARD_DEFERRED_WORKERS_PER_POOL',
    group: 'scheduling',
    default: 4,
    min: 0,
    max: 1_000,
    description: 'BullMQ jobs (deferred, batch work) held per pool per replica (0 = no worker on this replica)',
  }),

  // --- upstream
  dispatchMaxAttempts: int({
    name: 'SWITCHYARD_DISPATCH_MAX_ATTEMPTS',
    group: 'upstream',
    default: 3,
    min: 1,
    max: 10,
    description: 'attempts per pool before the first byte (the first try plus retries on other pods)',
  }),
  upstreamConnectTimeoutMs: int({ name: 'SWITCHYARD_UPSTREAM_CONNECT_TIMEOUT_MS', group: 'upstream', default: 2_000, min: 1, max: 60_000, description: 'TCP connect to a pod' }),
  upstreamHeadersTimeoutMs: int({
    name: 'SWITCHYARD_UPSTREAM_HEADERS_TIMEOUT_MS',
    group: 'upstream',
    default: 600_000,
    min: 1,
    max: MS_HOUR,
    description: 'from sending a request to the pod’s response headers',
  }),
  upstreamBodyTimeoutMs: int({
    name: 'SWITCHYARD_UPSTREAM_BODY_TIMEOUT_MS',
    group: 'upstream',
    default: 120_000,
    min: 1,
    max: MS_HOUR,
    description: 'longest silence between two chunks of a pod’s response body',
  }),
  upstreamMaxResponseBytes: int({
    name: 'SWITCHYARD_UPSTREAM_MAX_RESPONSE_BYTES',
    group: 'upstream',
    default: 32 * MiB,
    min: 1024,
    max: 1024 * MiB,
    shownDefault: '33554432 (32 MiB)',
    description: 'largest non-streamed response read from a pod (larger: 400 response_too_large; streams are relayed, not held)',
  }),
  upstreamConnectionsPerPod: int({ name: 'SWITCHYARD_UPSTREAM_CONNECTIONS_PER_POD', group: 'upstream', default: 256, min: 1, max: 10_000, description: 'HTTP connections kept per pod (undici pool)' }),
  simFaultInjection: flag({
    name: 'SWITCHYARD_SIM_FAULT_INJECTION',
    group: 'upstream',
    default: false,
    description: 'forward the client’s `x-sim-fault` header to simulator pods (tests and benchmarks only: it lets a client fail, stall or kill a pod)',
  }),

  // --- fleet
  autoscalerIntervalMs: int({ name: 'SWITCHYARD_AUTOSCALER_INTERVAL_MS', group: 'fleet', default: 5_000, min: 100, max: 600_000, description: 'how often the autoscaler decides (pools with `autoscaling:` in the catalogue); at most one change per pool per interval' }),
  autoscalerLeaseMs: int({ name: 'SWITCHYARD_AUTOSCALER_LEASE_MS', group: 'fleet', default: 10_000, min: 300, max: 120_000, description: 'the autoscaler leader lease in Redis: a dead leader is replaced within this + a third of it' }),
  fleetScrapeIntervalMs: int({ name: 'SWITCHYARD_FLEET_SCRAPE_INTERVAL_MS', group: 'fleet', default: 1_000, min: 100, max: 60_000, description: 'how often each pod’s /metrics is scraped and /health probed' }),
  fleetProbeTimeoutMs: optionalInt({
    name: 'SWITCHYARD_FLEET_PROBE_TIMEOUT_MS',
    group: 'fleet',
    min: 10,
    max: 60_000,
    shownDefault: '1000 or the scrape interval, whichever is less',
    description: 'timeout of a scrape or health probe',
  }),
  kubeconfig: text({
    name: 'SWITCHYARD_KUBECONFIG',
    group: 'fleet',
    accepts: 'path to a kubeconfig file',
    shownDefault: "none: the pod's service account (in-cluster)",
    description: 'the Kubernetes API server and credentials of `kubernetes` pools; unset, the gateway uses the service account it runs as',
  }),
  breakerFailures: int({ name: 'SWITCHYARD_BREAKER_FAILURES', group: 'fleet', default: 3, min: 1, max: 1_000, description: 'consecutive failed requests (5xx or timeout before the first byte) that eject a pod; a refused connection ejects at once' }),
  breakerProbeFailures: int({ name: 'SWITCHYARD_BREAKER_PROBE_FAILURES', group: 'fleet', default: 2, min: 1, max: 1_000, description: 'consecutive failed /health probes that eject a pod' }),
  breakerEjectBaseMs: int({ name: 'SWITCHYARD_BREAKER_EJECT_BASE_MS', group: 'fleet', default: 2_000, min: 100, max: 600_000, description: 'first ejection; doubles with each ejection in a row' }),
  breakerEjectMaxMs: int({
    name: 'SWITCHYARD_BREAKER_EJECT_MAX_MS',
    group: 'fleet',
    default: 30_000,
    min: 100,
    max: MS_HOUR,
    description: 'longest ejection (at least SWITCHYARD_BREAKER_EJECT_BASE_MS)',
  }),
} satisfies Record<string, Setting>;

export type SettingId = keyof typeof SETTINGS;
export type SettingValues = { [K in SettingId]: ReturnType<(typeof SETTINGS)[K]['read']> };

/** The settings in README order. */
export const SETTING_LIST: readonly Setting[] = Object.values(SETTINGS);

/**
 * Reads every setting from the environment. A ConfigError from here, or from whatever the caller
 * builds from these values, goes through maskSensitive before it leaves loadConfig.
 */
/**
 * Settings that no longer exist, with what replaced them: a deployment that still sets one stops at boot
 * rather than silently running with a different meaning (a client address taken from a spoofable header).
 */
export const RETIRED_SETTINGS: Readonly<Record<string, string>> = {
  SWITCHYARD_TRUST_PROXY:
    'SWITCHYARD_TRUST_PROXY was replaced by SWITCHYARD_TRUSTED_PROXIES, the list of proxy addresses or CIDRs whose X-Forwarded-For is believed (README, "Client addresses behind a proxy"); unset it',
};

export function readSettings(env: Env): SettingValues {
  for (const [name, message] of Object.entries(RETIRED_SETTINGS)) {
    if (env[name]) throw new ConfigError(message, name);
  }
  return Object.fromEntries(Object.entries(SETTINGS).map(([id, setting]) => [id, setting.read(env)])) as SettingValues;
}

const MASK = '***';
/** Shorter values are not searched for in messages: masking them would garble the text, not hide a secret. */
const MIN_MASKED_LENGTH = 6;

/**
 * The message with the value of every sensitive setting present in env (and the password inside a
 * sensitive URL) replaced by ***. The parsers never quote a sensitive value; this is the second net,
 * for messages built elsewhere (a file path, a library's error text).
 */
export function maskSensitive(message: string, env: Env): string {
  const secrets = new Set<string>();
  for (const setting of SETTING_LIST) {
    const raw = env[setting.name];
    if (!setting.sensitive || !raw) continue;
    secrets.add(raw);
    try {
      const password = new URL(raw).password;
      if (password) secrets.add(password).add(decodeURIComponent(password));
    } catch {
      // not a URL: the whole value is the secret
    }
  }
  let masked = message;
  for (const value of [...secrets].sort((a, b) => b.length - a.length)) {
    if (value.length >= MIN_MASKED_LENGTH) masked = masked.split(value).join(MASK);
  }
  return masked;
}

/** A ConfigError with sensitive values masked; anything else unchanged. */
export function masked(err: unknown, env: Env): unknown {
  if (!(err instanceof ConfigError)) return err;
  const message = maskSensitive(err.message, env);
  return message === err.message ? err : new ConfigError(message, err.setting);
}
