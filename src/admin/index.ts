/** The public surface of the admin module: what other modules may import (docs/architecture.md). */
export { setupAdminDocs } from './admin-docs.js';
export { AdminModule } from './admin.module.js';
