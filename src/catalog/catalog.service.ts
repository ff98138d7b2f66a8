/**
 * The model catalogue in memory: name or alias → model. PostgreSQL is the source of truth: at boot the
 * config seeds the models that have no row and the gateway loads them; admin changes are written there
 * and every replica reloads on the invalidation bus (a full reload: the catalogue is small). The hot
 * path never queries the database for it.
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { LOGGER } from '../observability/index.js';
import { InvalidationBus } from '../redis/index.js';
import { checkModelDefinition, referencesTo } from './catalog-rules.js';
import { CatalogRepository } from './catalog.repository.js';
import type { CatalogAuditEntry, CatalogModel, CatalogPool, ModelChanges, ModelDefinition } from './catalog.types.js';

export const CATALOG_CHANNEL = 'switchyard:catalog:invalidate';

@Injectable()
export class CatalogService implements OnModuleInit {
  private byName = new Map<string, CatalogModel>();
  private models: CatalogModel[] = [];
  private pools: CatalogPool[] = [];
  /** Reloads may overlap (a local change and its own broadcast): only the latest started one lands. */
  private loadsStarted = 0;
  private loadApplied = 0;

  constructor(
    private readonly repository: CatalogRepository,
    private readonly bus: InvalidationBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    bus.listen<{ model: string }>(CATALOG_CHANNEL, {
      parse: (raw) => (typeof (raw as { model?: unknown })?.model === 'string' ? (raw as { model: string }) : undefined),
      apply: () => void this.reloadLogged(),
      resync: () => void this.reloadLogged(),
      degraded: () => undefined,
    });
  }

  /** Seeds the configured catalogue into PostgreSQL and loads it (after the database module is up). */
  async onModuleInit(): Promise<void> {
    for (const differs of await this.repository.seed(this.config.catalogue)) {
      // PostgreSQL wins over the file: say so, or an edited config entry would seem ignored.
      this.logger.warn(
        differs.deleted ? { model: differs.name } : { model: differs.name, fields: differs.fields },
        differs.deleted
          ? 'the config file lists a model that was deleted through the admin API; it stays deleted'
          : 'the config file differs from the stored model, which was changed through the admin API; the stored definition is served',
      );
    }
    await this.reload();
  }

  /** Reads the whole catalogue from PostgreSQL and swaps it in. */
  async reload(): Promise<void> {
    const ticket = ++this.loadsStarted;
    const { pools, models } = await this.repository.loadAll();
    if (ticket < this.loadApplied) return;
    this.loadApplied = ticket;
    // Only pools named in this gateway's config are served; rows left by an older config stay inert.
    const configured = new Set(this.config.catalogue.pools.map((p) => p.name));
    this.pools = pools.filter((p) => configured.has(p.name));
    this.models = models.filter((m) => configured.has(m.pool));
    const byName = new Map<string, CatalogModel>();
    for (const model of this.models) {
      byName.set(model.name, model);
      for (const alias of model.aliases) byName.set(alias, model);
    }
    this.byName = byName;
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

  /**
   * Admin changes (authorisation is the caller's: the admin API allows platform admins only). Each is
   * checked and written under the catalogue lock with its audit row, then this replica reloads and the
   * others are told to; the answer is the model as this replica now serves it.
   */
  async createModel(model: ModelDefinition, audit: CatalogAuditEntry): Promise<CatalogModel> {
    await this.repository.create(model, (_, others) => this.checked(model, others), audit);
    return this.published(model.name);
  }

  async updateModel(name: string, changes: ModelChanges, audit: CatalogAuditEntry): Promise<CatalogModel> {
    const canonical = this.resolve(name).name;
    await this.repository.update(canonical, (current, others) => this.checked({ ...current!, ...changes, name: canonical }, others), audit);
    return this.published(canonical);
  }

  /** Deletes a model; 409 while another model falls back to it. */
  async deleteModel(name: string, audit: CatalogAuditEntry): Promise<CatalogModel> {
    const model = this.resolve(name);
    await this.repository.disable(
      model.name,
      (current, others) => {
        const users = referencesTo(current, others);
        if (users.length) {
          throw new ApiError(ErrorCode.Conflict, `The model \`${current.name}\` is a fallback of ${users.map((u) => `\`${u}\``).join(', ')}: remove it from their fallbacks first.`, 'model');
        }
      },
      audit,
    );
    await this.reload();
    await this.bus.publish(CATALOG_CHANNEL, { model: model.name });
    return model;
  }

  private checked(model: ModelDefinition, others: ModelDefinition[]): ModelDefinition {
    checkModelDefinition(model, others, new Set(this.pools.map((p) => p.name)));
    return model;
  }

  private async published(name: string): Promise<CatalogModel> {
    await this.reload();
    await this.bus.publish(CATALOG_CHANNEL, { model: name });
    return this.resolve(name);
  }

  private async reloadLogged(): Promise<void> {
    try {
      await this.reload();
    } catch (err) {
      this.logger.error({ err }, 'reloading the model catalogue failed; serving the previous one until the next change');
    }
  }
}
