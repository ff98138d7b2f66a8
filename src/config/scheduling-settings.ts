/** Routing and scheduling settings, from the validated SWITCHYARD_* values (kept apart from the types, which settings.ts uses). */
import { ConfigError } from './config-error.js';
import type { SchedulingConfig } from './scheduling.js';
import type { SettingValues } from './settings.js';

/** Shapes the validated settings into SchedulingConfig, with the checks that span two settings. */
export function schedulingConfig(s: SettingValues): SchedulingConfig {
  if (s.breakerEjectMaxMs < s.breakerEjectBaseMs) {
    throw new ConfigError('SWITCHYARD_BREAKER_EJECT_MAX_MS must be at least SWITCHYARD_BREAKER_EJECT_BASE_MS', 'SWITCHYARD_BREAKER_EJECT_MAX_MS');
  }
  return {
    policy: s.routingPolicy,
    maxInFlightPerPod: s.schedMaxInFlightPerPod,
    prefillBudgetTokens: s.schedPrefillBudgetTokens,
    prefillStallMs: s.schedPrefillStallMs,
    kvHighWatermark: s.schedKvHighWatermarkPct / 100,
    maxQueuedPerPool: s.schedMaxQueued,
    maxQueuedPerOrg: s.schedMaxQueuedPerOrg,
    queueTimeoutMs: { interactive: s.schedTimeoutInteractiveMs, flex: s.schedTimeoutFlexMs, batch: s.schedTimeoutBatchMs },
    maxAttempts: s.dispatchMaxAttempts,
    saturationFallbackTiers: s.fallbackOnSaturationTiers,
    prefix: { blockChars: s.prefixBlockChars, maxBlocks: s.prefixMaxBlocks, affinityEntriesPerPool: s.prefixAffinityEntries, cacheScope: s.prefixCacheScope },
    boundedLoadFactor: s.routingBoundedLoadPct / 100,
    fleet: {
      scrapeIntervalMs: s.fleetScrapeIntervalMs,
      probeTimeoutMs: s.fleetProbeTimeoutMs ?? Math.min(1_000, s.fleetScrapeIntervalMs),
      breaker: {
        failuresToEject: s.breakerFailures,
        probeFailuresToEject: s.breakerProbeFailures,
        ejectBaseMs: s.breakerEjectBaseMs,
        ejectMaxMs: s.breakerEjectMaxMs,
      },
    },
    deferredWorkersPerPool: s.deferredWorkersPerPool,
  };
}
