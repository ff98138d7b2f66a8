import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from './config/config.js';
import { AuthService } from './auth/auth.service.js';
import { CatalogRepository } from './catalog/catalog.repository.js';
import { CatalogService } from './catalog/catalog.service.js';
import { PrismaService } from './database/prisma.service.js';
import { DispatcherService } from './dispatch/dispatcher.service.js';
import { LifecycleService } from './edge/lifecycle.service.js';
import { OpenAiExceptionFilter } from './edge/openai-exception.filter.js';
import { FleetService } from './fleet/fleet.service.js';
import { InferenceController } from './inference/inference.controller.js';
import { InferencePipeline } from './inference/inference.pipeline.js';
import { HealthController } from './observability/health.controller.js';
import { LOGGER } from './observability/logger.js';
import { MetricsService } from './observability/metrics.service.js';
import { RedisService } from './redis/redis.service.js';
import { PodPicker } from './routing/pod-picker.js';
import { RequestValidator } from './validation/request-validator.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      controllers: [InferenceController, HealthController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: OpenAiExceptionFilter },
        PrismaService,
        RedisService,
        CatalogRepository,
        CatalogService,
        FleetService,
        PodPicker,
        DispatcherService,
        AuthService,
        RequestValidator,
        MetricsService,
        LifecycleService,
        InferencePipeline,
      ],
    };
  }
}
