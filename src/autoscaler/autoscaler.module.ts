/** Demand-driven replica counts for the pools with `autoscaling:` in the catalogue (one leader among the replicas). */
import { Module } from '@nestjs/common';
import { FleetModule } from '../fleet/index.js';
import { RedisModule } from '../redis/index.js';
import { SchedulerModule } from '../scheduler/index.js';
import { AutoscalerMetrics } from './autoscaler.metrics.js';
import { AutoscalerService } from './autoscaler.service.js';

@Module({ imports: [RedisModule, FleetModule, SchedulerModule], providers: [AutoscalerMetrics, AutoscalerService], exports: [AutoscalerService] })
export class AutoscalerModule {}
