/**
 * Bearer key → principal: HMAC lookup through an in-process cache invalidated by tenancy's events, with
 * failed authentications counted per client address (Redis, through the edge's throttle storage).
 */
import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { DatabaseModule } from '../database/index.js';
import { EdgeModule } from '../edge/index.js';
import { TenancyModule } from '../tenancy/index.js';
import { AuthFailureThrottle } from './auth-failure.throttle.js';
import { AuthMetrics } from './auth.metrics.js';
import { AuthService } from './auth.service.js';
import { CredentialRepository } from './credential.repository.js';
import { KeyUsageRecorder } from './key-usage.recorder.js';
import { PrincipalCache } from './principal.cache.js';
import { PrincipalInvalidation } from './principal-invalidation.js';

@Module({
  imports: [DatabaseModule, TenancyModule, EdgeModule],
  providers: [
    { provide: PrincipalCache, useFactory: (c: AppConfig) => new PrincipalCache(c.auth), inject: [APP_CONFIG] },
    PrincipalInvalidation,
    CredentialRepository,
    KeyUsageRecorder,
    AuthMetrics,
    AuthFailureThrottle,
    AuthService,
  ],
  exports: [AuthService],
})
export class AuthModule {}
