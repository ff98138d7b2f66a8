/** The public surface of the health module: what other modules may import (docs/architecture.md). */
export { HealthModule } from './health.module.js';
