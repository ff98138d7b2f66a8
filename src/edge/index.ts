/** The public surface of the edge module: what other modules may import (docs/architecture.md). */
export { EdgeModule } from './edge.module.js';
export { sendError } from './error-response.js';
export { IpThrottleService } from './ip-throttle.service.js';
export { LifecycleService } from './lifecycle.service.js';
export { OpenAiExceptionFilter } from './openai-exception.filter.js';
export { RedisThrottlerStorage } from './redis-throttler.storage.js';
export { httpStatusError, toApiError } from './error-response.js';
export { edgeServerOptions, registerBodyParser } from './http-server.js';
