/** The public surface of the redis module: what other modules may import (docs/architecture.md). */
export { InvalidationBus } from './invalidation.bus.js';
export type { InvalidationListener } from './invalidation.bus.js';
export { RedisModule } from './redis.module.js';
export { RedisService } from './redis.service.js';
