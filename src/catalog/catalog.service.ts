/**
 * The catalogue in memory: name or alias → model, and the pools that serve them. PostgreSQL is the
 * source of truth: at boot the config seeds the pools and models that have no row and the gateway loads
 * them; admin changes are written there and every replica reloads on the invalidation bus (a full
 * reload: the catalogue is small), then tells its pool listeners (the fleet starts, stops or restarts
 * providers). The hot path never queries the database for it.
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, parsePool, PoolDefinitionError, type AppConfig, type PoolConfig } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { LOGGER } from '../observability/index.js';
import { InvalidationBus } from '../redis/index.js';
import { checkModelDefinition, referencesTo } from './catalog-rules.js';
import { CatalogRepository, poolDefinition } from './catalog.repository.js';
import type { CatalogAuditEntry, CatalogModel, CatalogPool, ModelChanges, ModelDefinition } from './catalog.types.js';

/** Told the served pools after every reload that lands (at boot too). */
export type PoolsListener = (pools: readonly CatalogPool[]) => void;

export const CATALOG_CHANNEL = 'switchyard:catalog:invalidate';

@Injectable()
export class CatalogService implements OnModuleInit {
  private byName = new Map<string, CatalogModel>();
  private models: CatalogModel[] = [];
  private pools: CatalogPool[] = [];
  private readonly poolListeners: PoolsListener[] = [];
  /** Reloads may overlap (a local change and its own broadcast): only the latest started one lands. */
  private loadsStarted = 0;
  private loadApplied = 0;

  constructor(
    private readonly repository: CatalogRepository,
    private readonly bus: InvalidationBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // The message names what changed ({model} or {pool}), for the logs: every change reloads it all.
    bus.listen<{ model?: string; pool?: string }>(CATALOG_CHANNEL, {
      parse: (raw) => (raw && typeof raw === 'object' ? (raw as { model?: string; pool?: string }) : undefined),
      apply: () => void this.reloadLogged(),
      resync: () => void this.reloadLogged(),
      degraded: () => undefined,
    });
  }

  /** Seeds the configured catalogue into PostgreSQL and loads it (after the database module is up). */
  async onModuleInit(): Promise<void> {
    for (const differs of await this.repository.seed(this.config.catalogue)) {
      // PostgreSQL wins over the file: say so, or an edited config entry would seem ignored.
      const { kind, name } = differs;
      this.logger.warn(
        differs.deleted ? { [kind]: name } : { [kind]: name, fields: differs.fields },
        differs.deleted
          ? `the config file lists a ${kind} that was deleted through the admin API; it stays deleted`
          : `the config file differs from the stored ${kind}, which was changed through the admin API; the stored definition is served`,
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
    // Served: the pools named in this gateway's config and those created through the admin API; rows
    // left by an older config stay inert (and a local pool runs on the machine whose config names it).
    const configured = new Set(this.config.catalogue.pools.map((p) => p.name));
    this.pools = pools.filter((p) => configured.has(p.name) || (p.managed && p.provider !== 'local'));
    const served = new Set(this.pools.map((p) => p.name));
    this.models = models.filter((m) => served.has(m.pool));
    const byName = new Map<string, CatalogModel>();
    for (const model of this.models) {
      byName.set(model.name, model);
      for (const alias of model.aliases) byName.set(alias, model);
    }
    this.byName = byName;
    for (const listener of this.poolListeners) listener(this.pools);
  }

  /** Subscribes to the served pools, told after each reload (the fleet applies pool changes this way). */
  onPoolsChanged(listener: PoolsListener): void {
    this.poolListeners.push(listener);
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

  /**
   * Pools at run time: the body is a pool as the catalogue file gives it (static or kubernetes; local
   * pools stay config-only), checked by the file's own validation.
   */
  async createPool(raw: unknown, audit: CatalogAuditEntry): Promise<CatalogPool> {
    const pool = poolDefinition(validPool(raw));
    if (pool.provider === 'local') throw localPool('provider');
    await this.repository.createPool(pool, audit);
    return this.publishedPool(pool.name);
  }

  /** Changes a pool: the fields given replace the stored ones (null removes one); the name stays. */
  async updatePool(name: string, changes: Record<string, unknown>, audit: CatalogAuditEntry): Promise<CatalogPool> {
    if ('name' in changes && changes.name !== name) throw new ApiError(ErrorCode.InvalidValue, 'A pool cannot be renamed.', 'name');
    await this.repository.updatePool(
      name,
      (current) => {
        if (current.provider === 'local') throw localPool('pool');
        const { template, managed: _, ...fields } = current;
        const merged = Object.fromEntries(Object.entries({ ...fields, ...template, ...changes }).filter(([, v]) => v !== null && v !== undefined));
        const next = poolDefinition(validPool(merged));
        if (next.provider === 'local') throw localPool('provider');
        return next;
      },
      audit,
    );
    return this.publishedPool(name);
  }

  /** Deletes a pool; 409 while a model names it. Its pods drain on every replica. */
  async deletePool(name: string, audit: CatalogAuditEntry): Promise<CatalogPool> {
    const pool = this.pool(name);
    if (pool.provider === 'local') throw localPool('pool');
    await this.repository.disablePool(name, audit);
    await this.reload();
    await this.bus.publish(CATALOG_CHANNEL, { pool: name });
    return pool;
  }

  /** A served pool by name; 404 not_found. */
  pool(name: string): CatalogPool {
    const pool = this.pools.find((p) => p.name === name);
    if (!pool) throw new ApiError(ErrorCode.NotFound, `No pool named '${name}'.`, 'pool');
    return pool;
  }

  private async publishedPool(name: string): Promise<CatalogPool> {
    await this.reload();
    await this.bus.publish(CATALOG_CHANNEL, { pool: name });
    return this.pool(name);
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

/** The file's pool validation, its errors as OpenAI's invalid_value naming the field. */
function validPool(raw: unknown): PoolConfig {
  try {
    return parsePool(raw);
  } catch (err) {
    if (err instanceof PoolDefinitionError) {
      const code = { invalid: ErrorCode.InvalidValue, missing: ErrorCode.MissingRequiredParameter, unsupported: ErrorCode.UnsupportedParameter }[err.reason];
      throw new ApiError(code, err.message, err.param);
    }
    throw err;
  }
}

function localPool(param: string): ApiError {
  return new ApiError(ErrorCode.InvalidValue, 'Local pools (processes on a gateway machine) are configured in the catalogue file only; the admin API manages static and kubernetes pools.', param);
}
