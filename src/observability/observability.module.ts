/** The structured logger and the Prometheus registry, available to every module (global). */
import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from './logger.js';
import { DependencyMonitor } from './dependency-monitor.js';
import { MetricsService } from './metrics.service.js';

@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: ObservabilityModule,
      providers: [{ provide: LOGGER, useValue: logger }, MetricsService, DependencyMonitor],
      exports: [LOGGER, MetricsService, DependencyMonitor],
    };
  }
}
