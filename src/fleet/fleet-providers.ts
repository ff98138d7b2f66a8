/** The fleet providers this build has, one per kind, for Nest to hand to FleetService. */
import type { FactoryProvider } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { LOGGER, MetricsService } from '../observability/index.js';
import { FLEET_PROVIDERS, type FleetProvider } from './fleet-provider.js';
import { KubernetesMetrics } from './providers/kubernetes/kubernetes.metrics.js';
import { KubernetesFleetProvider } from './providers/kubernetes/kubernetes.provider.js';
import { LocalFleetProvider } from './providers/local.provider.js';
import { StaticFleetProvider } from './providers/static.provider.js';

export const fleetProviders: FactoryProvider<readonly FleetProvider[]> = {
  provide: FLEET_PROVIDERS,
  useFactory: (logger: Logger, config: AppConfig, metrics: MetricsService) => [
    new LocalFleetProvider(logger),
    new StaticFleetProvider(),
    // Connects only when a kubernetes pool is started.
    new KubernetesFleetProvider(logger, config.kubernetes.kubeconfig, new KubernetesMetrics(metrics.registry)),
  ],
  inject: [LOGGER, APP_CONFIG, MetricsService],
};
