/** The public surface of the batch module: what other modules may import (docs/architecture.md). */
export { BatchModule } from './batch.module.js';
