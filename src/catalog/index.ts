/** The public surface of the catalog module: what other modules may import (docs/architecture.md). */
export { CatalogModule } from './catalog.module.js';
export { CATALOG_CHANNEL, CatalogService, type PoolsListener } from './catalog.service.js';
export type { CatalogAuditEntry, CatalogModel, CatalogPool, ModelChanges, ModelDefinition, PoolDefinition } from './catalog.types.js';
