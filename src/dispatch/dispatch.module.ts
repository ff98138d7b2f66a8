/** The upstream call to an admitted pod, retries before the first byte, and the route → schedule → dispatch loop. */
import { Module } from '@nestjs/common';
import { FleetModule } from '../fleet/index.js';
import { RoutingModule } from '../routing/index.js';
import { SchedulerModule } from '../scheduler/index.js';
import { DispatcherService } from './dispatcher.service.js';
import { RouteRunner } from './route-runner.js';

@Module({ imports: [FleetModule, SchedulerModule, RoutingModule], providers: [DispatcherService, RouteRunner], exports: [RouteRunner] })
export class DispatchModule {}
