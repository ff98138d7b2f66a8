/** The public surface of the fleet module: what other modules may import (docs/architecture.md). */
export { FleetMonitor } from './fleet-monitor.service.js';
export { FleetModule } from './fleet.module.js';
export { FleetService, type PoolStatus } from './fleet.service.js';
export { AUTOSCALING_ANNOTATION, AUTOSCALING_PAUSED, type WorkloadReplicas } from './fleet-provider.js';
export type { Pod } from './pod.js';
