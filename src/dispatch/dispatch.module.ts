/** The upstream call to an admitted pod, retries before the first byte, and the route → schedule → dispatch loop. */
import { Module } from '@nestjs/common';
import { FleetModule } from '../fleet/fleet.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { SchedulerModule } from '../scheduler/scheduler.module.js';
import { DispatcherService } from './dispatcher.service.js';
import { RouteRunner } from './route-runner.js';

@Module({ imports: [FleetModule, SchedulerModule, RoutingModule], providers: [DispatcherService, RouteRunner], exports: [RouteRunner] })
export class DispatchModule {}
