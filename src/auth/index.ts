/** The public surface of the auth module: what other modules may import (docs/architecture.md). */
export { AuthModule } from './auth.module.js';
export { AuthService, type AuthContext } from './auth.service.js';
export { INFERENCE, assertModelAllowed } from './model-access.js';
