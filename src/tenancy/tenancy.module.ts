/** Organizations, API keys, their hashes and change events, the audit log, the boot-time first key. */
import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/index.js';
import { DatabaseModule } from '../database/index.js';
import { RedisModule } from '../redis/index.js';
import { ApiKeyHasher } from './api-key.hasher.js';
import { ApiKeyRepository } from './api-key.repository.js';
import { ApiKeyService } from './api-key.service.js';
import { AuditLogRepository } from './audit-log.repository.js';
import { AuditLogService } from './audit-log.service.js';
import { OrganizationRepository } from './organization.repository.js';
import { OrganizationService } from './organization.service.js';
import { TenancyBootstrap } from './tenancy.bootstrap.js';
import { TenancyEvents } from './tenancy-events.js';

@Module({
  imports: [DatabaseModule, RedisModule, CatalogModule],
  providers: [ApiKeyHasher, TenancyEvents, OrganizationRepository, ApiKeyRepository, AuditLogRepository, OrganizationService, ApiKeyService, AuditLogService, TenancyBootstrap],
  exports: [ApiKeyHasher, TenancyEvents, OrganizationService, ApiKeyService, AuditLogService, AuditLogRepository],
})
export class TenancyModule {}
