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
import { masked, readSettings, type SettingValues } from './settings.js';
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
  return {
    host: s.host,
    port: s.port,
    logLevel: s.logLevel,
    databaseUrl: s.databaseUrl,
    migrateOnStart: s.migrateOnStart,
    redisUrl: s.redisUrl,
    keyPepper: s.keyPepper,
    bootstrapApiKey: s.bootstrapApiKey,
    auth: { cacheTtlMs: s.authCacheTtlMs, negativeCacheTtlMs: s.authNegativeCacheTtlMs, cacheMaxEntries: s.authCacheMaxEntries },
    bodyLimitBytes: s.bodyLimitBytes,
    prompt: {
      offloadBytes: s.promptOffloadBytes,
      workers: s.promptWorkers,
      maxMessages: s.maxMessages,
      maxMessageChars: s.maxMessageChars,
      maxTools: s.maxTools,
      maxSchemaDepth: s.maxSchemaDepth,
      imageUrlHosts: s.imageUrlHosts,
      maxImageUrlBytes: s.maxImageUrlBytes,
    },
    edge: { ipRequestsPerMinute: s.ipRequestsPerMinute, adminIpRequestsPerMinute: s.adminIpRequestsPerMinute, trustProxy: s.trustProxy },
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
      simFaultInjection: s.simFaultInjection,
    },
    kubernetes: { kubeconfig: s.kubeconfig },
    autoscaler: { intervalMs: s.autoscalerIntervalMs, leaseMs: s.autoscalerLeaseMs },
    catalogue,
  };
}
