/** The public surface of the observability module: what other modules may import (docs/architecture.md). */
export { LOGGER, NestPinoLogger, createLogger } from './logger.js';
export { DependencyMonitor } from './dependency-monitor.js';
export { MetricsService } from './metrics.service.js';
export { ObservabilityModule } from './observability.module.js';
