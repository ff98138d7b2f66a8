/**
 * The model catalogue in memory: name or alias → model. Loaded at boot (after seeding from config);
 * the hot path never queries the database for it.
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { APP_CONFIG, type AppConfig, type CatalogueConfig } from '../config/index.js';
import { CatalogRepository } from './catalog.repository.js';
import type { CatalogModel, CatalogPool } from './catalog.types.js';

@Injectable()
export class CatalogService implements OnModuleInit {
  private byName = new Map<string, CatalogModel>();
  private models: CatalogModel[] = [];
  private pools: CatalogPool[] = [];

  constructor(
    private readonly repository: CatalogRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Seeds the configured catalogue into PostgreSQL and loads it (after the database module is up). */
  onModuleInit(): Promise<void> {
    return this.init(this.config.catalogue);
  }

  async init(catalogue: CatalogueConfig): Promise<void> {
    await this.repository.seed(catalogue);
    const { pools, models } = await this.repository.loadAll();
    const configured = new Set(catalogue.pools.map((p) => p.name));
    // Only pools named in this gateway's config are served; rows left by an older config stay inert.
    this.pools = pools.filter((p) => configured.has(p.name));
    this.models = models.filter((m) => configured.has(m.pool));
    this.byName = new Map();
    for (const model of this.models) {
      this.byName.set(model.name, model);
      for (const alias of model.aliases) this.byName.set(alias, model);
    }
  }

  /** Resolves a client-supplied model name or alias; unknown → 404 model_not_found. */
  resolve(name: string, kind?: CatalogModel['kind']): CatalogModel {
    const model = this.byName.get(name);
    if (!model || (kind && model.kind !== kind)) {
      throw new ApiError(
        ErrorCode.ModelNotFound,
        `The model \`${name}\` does not exist or you do not have access to it.`,
        'model',
      );
    }
    return model;
  }

  listModels(): readonly CatalogModel[] {
    return this.models;
  }

  listPools(): readonly CatalogPool[] {
    return this.pools;
  }
}
