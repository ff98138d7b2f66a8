/**
 * The application: the app-layer modules (the /v1 API, the admin API, deferred work, health) over the
 * global configuration and observability. Each stage is its own module that exports only its public
 * services (docs/architecture.md, "Modules and layers"); Nest runs their start-up hooks in dependency
 * order: database and Redis first, then the catalogue, the prompt tokenizers and the fleet.
 */
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger } from 'pino';
import { AdminModule } from './admin/index.js';
import { AutoscalerModule } from './autoscaler/index.js';
import { BatchModule } from './batch/index.js';
import { ClockModule } from './clock/index.js';
import { ConfigModule } from './config/index.js';
import type { AppConfig } from './config/index.js';
import { OpenAiExceptionFilter } from './edge/index.js';
import { HealthModule } from './health/index.js';
import { InferenceModule } from './inference/index.js';
import { ObservabilityModule } from './observability/index.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), ObservabilityModule.forRoot(logger), ClockModule, InferenceModule, AdminModule, BatchModule, HealthModule, AutoscalerModule],
      providers: [{ provide: APP_FILTER, useClass: OpenAiExceptionFilter }],
    };
  }
}
