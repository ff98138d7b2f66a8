/** The shared Redis connection and the cross-replica cache-invalidation bus. */
import { Module } from '@nestjs/common';
import { InvalidationBus } from './invalidation.bus.js';
import { RedisService } from './redis.service.js';

@Module({ providers: [RedisService, InvalidationBus], exports: [RedisService, InvalidationBus] })
export class RedisModule {}
