/** The public surface of the validation module: what other modules may import (docs/architecture.md). */
export { assertSupported } from './capabilities.js';
export { RequestValidator } from './request-validator.js';
export type { RequestBody } from './request-validator.js';
export { ValidationModule } from './validation.module.js';
