/** The fleet providers this build has, one per kind, for Nest to hand to FleetService. */
import type { FactoryProvider } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../observability/index.js';
import { FLEET_PROVIDERS, type FleetProvider } from './fleet-provider.js';
import { LocalFleetProvider } from './providers/local.provider.js';
import { StaticFleetProvider } from './providers/static.provider.js';

export const fleetProviders: FactoryProvider<readonly FleetProvider[]> = {
  provide: FLEET_PROVIDERS,
  useFactory: (logger: Logger) => [new LocalFleetProvider(logger), new StaticFleetProvider()],
  inject: [LOGGER],
};
