/** The public surface of the catalog module: what other modules may import (docs/architecture.md). */
export { CatalogModule } from './catalog.module.js';
export { CatalogService } from './catalog.service.js';
export type { CatalogModel, CatalogPool } from './catalog.types.js';
