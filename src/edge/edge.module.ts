/** What happens before a request reaches a stage: draining state, per-IP throttle, error responses. */
import { Module } from '@nestjs/common';
import { RedisModule } from '../redis/index.js';
import { IpThrottleService } from './ip-throttle.service.js';
import { LifecycleService } from './lifecycle.service.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';

@Module({
  imports: [RedisModule],
  providers: [LifecycleService, RedisThrottlerStorage, IpThrottleService],
  exports: [LifecycleService, RedisThrottlerStorage, IpThrottleService],
})
export class EdgeModule {}
