/** /health, /ready and /metrics: above everything it reports on. */
import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/index.js';
import { EdgeModule } from '../edge/index.js';
import { FleetModule } from '../fleet/index.js';
import { RedisModule } from '../redis/index.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [DatabaseModule, RedisModule, EdgeModule, FleetModule], controllers: [HealthController] })
export class HealthModule {}
