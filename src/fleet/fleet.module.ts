/** The pods of every pool from its FleetProvider (local, static, kubernetes), their runtime metrics and health (1 s loop). */
import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/index.js';
import { FleetMonitor } from './fleet-monitor.service.js';
import { FleetMetrics } from './fleet.metrics.js';
import { fleetProviders } from './fleet-providers.js';
import { FleetService } from './fleet.service.js';

@Module({ imports: [CatalogModule], providers: [fleetProviders, FleetMetrics, FleetService, FleetMonitor], exports: [FleetService, FleetMonitor] })
export class FleetModule {}
