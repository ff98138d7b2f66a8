/** The model catalogue: PostgreSQL (seeded from config), served from memory, reloaded on every replica on change. */
import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/index.js';
import { RedisModule } from '../redis/index.js';
import { CatalogRepository } from './catalog.repository.js';
import { CatalogService } from './catalog.service.js';

@Module({ imports: [DatabaseModule, RedisModule], providers: [CatalogRepository, CatalogService], exports: [CatalogService] })
export class CatalogModule {}
