/** Rate limits, token quotas, concurrency leases and spend budgets in Redis; limit policies in PostgreSQL. */
import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/index.js';
import { RedisModule } from '../redis/index.js';
import { TenancyModule } from '../tenancy/index.js';
import { AdmissionGate } from './admission-gate.js';
import { LimitPolicyRepository } from './limit-policy.repository.js';
import { LimitPolicyService } from './limit-policy.service.js';
import { QuotaService } from './quota.service.js';
import { QuotaStore } from './quota.store.js';

@Module({
  imports: [DatabaseModule, RedisModule, TenancyModule],
  providers: [LimitPolicyRepository, LimitPolicyService, QuotaStore, QuotaService, AdmissionGate],
  exports: [QuotaService, LimitPolicyService, AdmissionGate],
})
export class QuotaModule {}
