/** The model catalogue: seeded from config into PostgreSQL at boot, then served from memory. */
import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/index.js';
import { CatalogRepository } from './catalog.repository.js';
import { CatalogService } from './catalog.service.js';

@Module({ imports: [DatabaseModule], providers: [CatalogRepository, CatalogService], exports: [CatalogService] })
export class CatalogModule {}
