/** The public surface of the errors module: what other modules may import (docs/architecture.md). */
export { ApiError } from './api-error.js';
export { ErrorCode } from './error-codes.js';
