/**
 * Builds AppConfig, once at boot: the SWITCHYARD_* settings (read through settings.ts alone, the only
 * reader of process.env in src/) plus the catalogue file they name. A bad setting stops start-up with a
 * ConfigError naming it; sensitive values never appear in the message.
 */
import type { AppConfig } from './app-config.js';
import { loadCatalogueFile, type CatalogueConfig } from './catalogue.js';
import { ConfigError } from './config-error.js';
import { schedulingConfig } from './scheduling-settings.js';
import type { Env } from './setting.js';
import { masked, maskSensitive, readSettings, type SettingValues } from './settings.js';
import { tierLimits } from './tiers.js';

/**
 * The config from env and the catalogue file it names, or from `catalogue` when given (tests, and the
 * admin CLI, which needs none).
 */
export function loadConfig(env: Env = process.env, catalogue?: CatalogueConfig): AppConfig {
  try {
    const s = readSettings(env);
    if (!catalogue && !s.configFile) {
      throw new ConfigError('SWITCHYARD_CONFIG_FILE must name the model catalogue (YAML or JSON)', 'SWITCHYARD_CONFIG_FILE');
    }
    return build(s, catalogue ?? loadCatalogueFile(s.configFile!));
  } catch (err) {
    throw masked(err, env);
  }
}

function build(s: SettingValues, catalogue: CatalogueConfig): AppConfig {
  // Node refuses a headers timeout longer than the request timeout (which includes the headers).
  if (s.headersTimeoutMs > s.requestTimeoutMs) {
    throw new ConfigError('SWITCHYARD_HEADERS_TIMEOUT_MS must not exceed SWITCHYARD_REQUEST_TIMEOUT_MS (the request timeout includes the headers)', 'SWITCHYARD_HEADERS_TIMEOUT_MS');
  }
  return {
    host: s.host,
    port: s.port,
    logLevel: s.logLevel,
    databaseUrl: s.databaseUrl,
    migrateOnStart: s.migrateOnStart,
    redisUrl: s.redisUrl,
    keyPepper: s.keyPepper,
    bootstrapApiKey: s.bootstrapApiKey,
    auth: { cacheTtlMs: s.authCacheTtlMs, negativeCacheTtlMs: s.authNegativeCacheTtlMs, cacheMaxEntries: s.authCacheMaxEntries, negativeCacheMaxEntries: s.authNegativeCacheMaxEntries },
    bodyLimitBytes: s.bodyLimitBytes,
    bodyDrainBytes: s.bodyDrainBytes,
    prompt: {
      offloadBytes: s.promptOffloadBytes,
      workers: s.promptWorkers,
      queueMax: s.promptQueueMax,
      maxMessages: s.maxMessages,
      maxMessageChars: s.maxMessageChars,
      maxSequences: s.maxSequencesPerRequest,
      maxTools: s.maxTools,
      maxSchemaDepth: s.maxSchemaDepth,
      imageUrlHosts: s.imageUrlHosts,
      maxImageUrlBytes: s.maxImageUrlBytes,
    },
    edge: {
      ipRequestsPerMinute: s.ipRequestsPerMinute,
      adminIpRequestsPerMinute: s.adminIpRequestsPerMinute,
      authFailuresPerMinute: s.authFailuresPerMinute,
      trustedProxies: s.trustedProxies,
      headersTimeoutMs: s.headersTimeoutMs,
      requestTimeoutMs: s.requestTimeoutMs,
      keepAliveTimeoutMs: s.keepAliveTimeoutMs,
      streamStallTimeoutMs: s.streamStallTimeoutMs,
    },
    operations: { readyCheckTtlMs: s.readyCheckTtlMs, metricsToken: s.metricsToken },
    quota: {
      tiers: tierLimits(catalogue.tiers),
      leaseMs: s.quotaLeaseMs,
      failMode: { rate: s.quotaFailModeRate, spend: s.quotaFailModeSpend },
    },
    scheduling: schedulingConfig(s),
    shutdownGraceMs: s.shutdownGraceMs,
    upstream: {
      connectTimeoutMs: s.upstreamConnectTimeoutMs,
      headersTimeoutMs: s.upstreamHeadersTimeoutMs,
      bodyTimeoutMs: s.upstreamBodyTimeoutMs,
      connectionsPerPod: s.upstreamConnectionsPerPod,
      maxResponseBytes: s.upstreamMaxResponseBytes,
      simFaultInjection: s.simFaultInjection,
    },
    kubernetes: { kubeconfig: s.kubeconfig },
    autoscaler: { intervalMs: s.autoscalerIntervalMs, leaseMs: s.autoscalerLeaseMs },
    catalogue,
  };
}

/** `message` with this process's secret settings (and URL passwords) masked: for start-up failures. */
export function maskProcessSecrets(message: string): string {
  return maskSensitive(message, process.env);
}
