/** The public surface of the dispatch module: what other modules may import (docs/architecture.md). */
export { DispatchModule } from './dispatch.module.js';
export type { JsonResult } from './dispatcher.service.js';
export { RouteRunner } from './route-runner.js';
export { classifyUpstreamError } from './upstream-failure.js';
