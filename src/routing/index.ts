/** The public surface of the routing module: what other modules may import (docs/architecture.md). */
export { ModelRouter } from './model-router.js';
export type { Route } from './model-router.js';
export { RoutingModule } from './routing.module.js';
