/** /health, /ready and /metrics: above everything it reports on. */
import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module.js';
import { EdgeModule } from '../edge/edge.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { RedisModule } from '../redis/redis.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [DatabaseModule, RedisModule, EdgeModule, FleetModule], controllers: [HealthController] })
export class HealthModule {}
