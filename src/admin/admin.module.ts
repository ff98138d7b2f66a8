/**
 * /admin/v1: organizations, keys, limits, the model catalogue, pools, audit log. Ordinary Nest guards and DTO pipes run here (not
 * on /v1): the per-IP throttle (@nestjs/throttler on the shared Redis storage) before AdminGuard's
 * key check, so a flood of guessed admin keys is cut before it reaches the key cache's database fallback.
 */
import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuthModule } from '../auth/index.js';
import { CatalogModule } from '../catalog/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { EdgeModule } from '../edge/index.js';
import { FleetModule } from '../fleet/index.js';
import { SchedulerModule } from '../scheduler/index.js';
import { RedisThrottlerStorage } from '../edge/index.js';
import { QuotaModule } from '../quota/index.js';
import { TenancyModule } from '../tenancy/index.js';
import { AdminGuard } from './admin.guard.js';
import { AdminThrottlerGuard } from './admin-throttler.guard.js';
import { ApiKeysController } from './api-keys.controller.js';
import { AuditLogController } from './audit-log.controller.js';
import { LimitsController } from './limits.controller.js';
import { ModelsController } from './models.controller.js';
import { OrganizationsController } from './organizations.controller.js';
import { PoolsController } from './pools.controller.js';

const MINUTE_MS = 60_000;

@Module({
  imports: [
    AuthModule,
    TenancyModule,
    QuotaModule,
    CatalogModule,
    FleetModule,
    SchedulerModule,
    ThrottlerModule.forRootAsync({
      imports: [EdgeModule],
      inject: [RedisThrottlerStorage, APP_CONFIG],
      useFactory: (storage: RedisThrottlerStorage, config: AppConfig) => ({
        throttlers: [{ name: 'admin', ttl: MINUTE_MS, limit: config.edge.adminIpRequestsPerMinute, blockDuration: MINUTE_MS }],
        storage,
        // One counter per address for the whole admin API; refusals carry OpenAI's headers, not X-RateLimit-*.
        generateKey: (_context, tracker) => tracker,
        setHeaders: false,
        skipIf: () => config.edge.adminIpRequestsPerMinute === 0,
      }),
    }),
  ],
  controllers: [OrganizationsController, ApiKeysController, LimitsController, ModelsController, PoolsController, AuditLogController],
  providers: [AdminThrottlerGuard, AdminGuard],
})
export class AdminModule {}
