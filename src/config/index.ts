/**
 * Configuration, validated once at boot into one typed object (infrastructure: imports nothing above it).
 *
 *   settings.ts    every SWITCHYARD_* environment variable, declared once (setting.ts: the kinds)
 *   load.ts        loadConfig: settings + catalogue file → AppConfig (app-config.ts)
 *   catalogue.ts   the catalogue file: pools, models, tokenizer ids, tier overrides
 *   scheduling.ts  routing and scheduling settings
 *   tiers.ts       tiers and their default limits
 */
export { APP_CONFIG, type AppConfig } from './app-config.js';
export { loadCatalogueFile, parseCatalogue, parsePool, PoolDefinitionError, TOKENIZER_IDS, type AutoscalingConfig, type CatalogueConfig, type KubernetesPoolConfig, type LocalPodCommand, type ModelConfig, type PoolConfig, type RuntimeKind, type TokenizerId } from './catalogue.js';
export { ConfigError } from './config-error.js';
export { loadConfig, maskProcessSecrets } from './load.js';
export { PREFIX_CACHE_SCOPES, ROUTING_POLICIES, type PrefixCacheScope, type PriorityClass, type RoutingPolicyName, type SchedulingConfig } from './scheduling.js';
export { SETTING_GROUPS, type Env, type Setting, type SettingGroup } from './setting.js';
export { renderSettingsTable, withSettingsTable } from './settings-table.js';
export { API_KEY_FORMAT, LOG_LEVELS, maskSensitive, RETIRED_SETTINGS, SETTING_LIST, SETTINGS, type LogLevel, type SettingValues } from './settings.js';
export { DEFAULT_TIER_LIMITS, LIMIT_FIELDS, tierLimits, TIERS, type LimitField, type Limits, type Tier, type TierLimitOverrides } from './tiers.js';
export { ConfigModule } from './config.module.js';
