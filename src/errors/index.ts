/** The public surface of the errors module: what other modules may import (docs/architecture.md). */
export { ApiError } from './api-error.js';
export { ErrorCode } from './error-codes.js';
export { DEPENDENCY_NAMES, DEPENDENCY_RETRY_AFTER_S, dependencyOutage, dependencyUnavailable, isPostgresOutage, isRedisOutage } from './dependency-errors.js';
export type { Dependency } from './dependency-errors.js';
