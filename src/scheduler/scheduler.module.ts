/** Per-pool admission: priority classes, fair share between organizations, pod placement, shedding. */
import { Module } from '@nestjs/common';
import { FleetModule } from '../fleet/index.js';
import { SchedulerMetrics } from './scheduler.metrics.js';
import { SchedulerService } from './scheduler.service.js';

@Module({ imports: [FleetModule], providers: [SchedulerMetrics, SchedulerService], exports: [SchedulerService, SchedulerMetrics] })
export class SchedulerModule {}
