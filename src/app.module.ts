import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from './config/config.js';
import { AdminGuard } from './admin/admin.guard.js';
import { ApiKeysController } from './admin/api-keys.controller.js';
import { AuditLogController } from './admin/audit-log.controller.js';
import { OrganizationsController } from './admin/organizations.controller.js';
import { ApiKeyHasher } from './auth/api-key.hasher.js';
import { AuthInvalidationBus } from './auth/auth-invalidation.bus.js';
import { InvalidationBus } from './redis/invalidation.bus.js';
import { AuthMetrics } from './auth/auth.metrics.js';
import { AuthService } from './auth/auth.service.js';
import { CredentialRepository } from './auth/credential.repository.js';
import { KeyUsageRecorder } from './auth/key-usage.recorder.js';
import { PrincipalCache } from './auth/principal.cache.js';
import { CatalogRepository } from './catalog/catalog.repository.js';
import { CatalogService } from './catalog/catalog.service.js';
import { PrismaService } from './database/prisma.service.js';
import { DispatcherService } from './dispatch/dispatcher.service.js';
import { RouteRunner } from './dispatch/route-runner.js';
import { IpThrottleService } from './edge/ip-throttle.service.js';
import { LifecycleService } from './edge/lifecycle.service.js';
import { RedisThrottlerStorage } from './edge/redis-throttler.storage.js';
import { OpenAiExceptionFilter } from './edge/openai-exception.filter.js';
import { FleetMonitor } from './fleet/fleet-monitor.service.js';
import { FleetMetrics } from './fleet/fleet.metrics.js';
import { fleetProviders } from './fleet/fleet-providers.js';
import { FleetService } from './fleet/fleet.service.js';
import { InferenceController } from './inference/inference.controller.js';
import { InferencePipeline } from './inference/inference.pipeline.js';
import { RequestFinalizer } from './inference/request-finalizer.js';
import { HealthController } from './observability/health.controller.js';
import { LOGGER } from './observability/logger.js';
import { MetricsService } from './observability/metrics.service.js';
import { RedisService } from './redis/redis.service.js';
import { SchedulerMetrics } from './scheduler/scheduler.metrics.js';
import { DeferredWorkService } from './scheduler/deferred-work.service.js';
import { SchedulerService } from './scheduler/scheduler.service.js';
import { ModelRouter } from './routing/model-router.js';
import { PromptService } from './prompt/prompt.service.js';
import { LimitPolicyService } from './quota/limit-policy.service.js';
import { LimitPolicyRepository } from './quota/limit-policy.repository.js';
import { LimitsController } from './admin/limits.controller.js';
import { QuotaService } from './quota/quota.service.js';
import { QuotaStore } from './quota/quota.store.js';
import { ApiKeyRepository } from './tenancy/api-key.repository.js';
import { ApiKeyService } from './tenancy/api-key.service.js';
import { AuditLogRepository } from './tenancy/audit-log.repository.js';
import { AuditLogService } from './tenancy/audit-log.service.js';
import { OrganizationRepository } from './tenancy/organization.repository.js';
import { OrganizationService } from './tenancy/organization.service.js';
import { TenancyBootstrap } from './tenancy/tenancy.bootstrap.js';
import { RequestValidator } from './validation/request-validator.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      controllers: [InferenceController, HealthController, OrganizationsController, ApiKeysController, LimitsController, AuditLogController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: OpenAiExceptionFilter },
        PrismaService,
        RedisService,
        CatalogRepository,
        CatalogService,
        // fleet, routing and scheduling: pods and their health, fallback chains, admission, dispatch
        FleetMetrics,
        fleetProviders,
        FleetService,
        FleetMonitor,
        SchedulerMetrics,
        SchedulerService,
        ModelRouter,
        DispatcherService,
        RouteRunner,
        DeferredWorkService,
        // auth: key → principal through an in-process cache invalidated over Redis pub/sub
        ApiKeyHasher,
        CredentialRepository,
        { provide: PrincipalCache, useFactory: (c: AppConfig) => new PrincipalCache(c.auth), inject: [APP_CONFIG] },
        InvalidationBus,
        AuthInvalidationBus,
        KeyUsageRecorder,
        AuthMetrics,
        AuthService,
        // tenancy and the admin API
        OrganizationRepository,
        ApiKeyRepository,
        AuditLogRepository,
        OrganizationService,
        ApiKeyService,
        AuditLogService,
        TenancyBootstrap,
        AdminGuard,
        RequestValidator,
        PromptService,
        LimitPolicyRepository,
        LimitPolicyService,
        QuotaStore,
        QuotaService,
        MetricsService,
        LifecycleService,
        RedisThrottlerStorage,
        IpThrottleService,
        RequestFinalizer,
        InferencePipeline,
      ],
    };
  }
}
