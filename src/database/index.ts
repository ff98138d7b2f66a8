/** The public surface of the database module: what other modules may import (docs/architecture.md). */
export { DatabaseModule } from './database.module.js';
export { migrateDeploy } from './migrate.js';
export { PrismaService } from './prisma.service.js';
