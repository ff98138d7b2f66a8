/**
 * Catalogue rows in PostgreSQL, the source of truth: the config file seeds the models that have no row
 * yet (a deleted model keeps its row, disabled, so the seed never brings it back), the admin API
 * creates, changes and deletes them. Pools the same way: seeded where absent, a deleted one kept
 * disabled; a pool created or changed through the admin API is `managed` (served whatever the config
 * file says, never overwritten by it), while the others follow the file at every boot.
 * Every admin change runs under one transaction-scoped advisory lock, re-checks the rules
 * against the rows it sees there and writes its audit row in the same transaction. The seed takes no
 * lock: it only inserts rows that are absent (ON CONFLICT DO NOTHING), which cannot undo a change.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/index.js';
import type { Model, Pool, Prisma } from '../generated/prisma/client.js';
import type { CatalogueConfig, PoolConfig } from '../config/index.js';
import { ApiError, ErrorCode } from '../errors/index.js';
import type { CatalogAuditEntry, CatalogModel, CatalogPool, ModelDefinition, PoolDefinition } from './catalog.types.js';

/** pg_advisory_xact_lock key serialising admin changes across replicas ('sycatalg' as an int64). */
const CATALOG_LOCK = 0x7379636174616c67n;
/**
 * Interactive transactions here may wait for each other (the lock, the rows replicas seed together):
 * wider bounds than Prisma's 2 s / 5 s defaults, which a loaded machine exceeds.
 */
const TX_OPTIONS = { maxWait: 10_000, timeout: 30_000 };

type Tx = Prisma.TransactionClient;

function definition(row: Model): ModelDefinition {
  return {
    name: row.name,
    kind: row.kind,
    aliases: row.aliases,
    pool: row.poolName,
    contextWindow: row.contextWindow,
    maxOutputTokens: row.maxOutputTokens,
    tokenizer: row.tokenizer,
    inputPricePerMTok: Number(row.inputPricePerMTok),
    outputPricePerMTok: Number(row.outputPricePerMTok),
    capabilities: row.capabilities as Record<string, boolean>,
    fallbacks: row.fallbacks,
    ownedBy: row.ownedBy,
  };
}

function columns(model: ModelDefinition) {
  return {
    kind: model.kind,
    aliases: model.aliases,
    poolName: model.pool,
    contextWindow: model.contextWindow,
    maxOutputTokens: model.maxOutputTokens,
    tokenizer: model.tokenizer,
    inputPricePerMTok: model.inputPricePerMTok,
    outputPricePerMTok: model.outputPricePerMTok,
    capabilities: model.capabilities,
    fallbacks: model.fallbacks,
    ownedBy: model.ownedBy,
  };
}

function poolColumns(pool: PoolDefinition) {
  return {
    runtime: pool.runtime,
    provider: pool.provider,
    servedModel: pool.servedModel,
    template: { sim: pool.template.sim ?? null, local: pool.template.local ? { ...pool.template.local } : null, endpoints: pool.template.endpoints ?? null, kubernetes: pool.template.kubernetes ? { ...pool.template.kubernetes } : null },
    replicas: pool.replicas,
    maxReplicas: Math.max(pool.replicas, 1),
  };
}

/** A pool of the config file as the catalogue stores it. */
export function poolDefinition(pool: PoolConfig): PoolDefinition {
  const { name, runtime, provider, servedModel, replicas, sim, local, endpoints, kubernetes } = pool;
  return { name, runtime, provider, servedModel, replicas, template: { sim, local, endpoints, kubernetes } };
}

function storedPool(row: Pool): CatalogPool {
  const t = (row.template ?? {}) as Record<string, unknown>;
  // Absent provider blocks are stored as null; the definition leaves them out.
  const template = Object.fromEntries(Object.entries(t).filter(([, v]) => v !== null && v !== undefined)) as CatalogPool['template'];
  return { name: row.name, runtime: row.runtime, provider: row.provider, servedModel: row.servedModel, replicas: row.replicas, template, managed: row.managed };
}

function auditData(entry: CatalogAuditEntry): Prisma.AuditLogCreateInput {
  return { ...entry, details: entry.details as Prisma.InputJsonValue };
}

/**
 * Decides a change from the rows seen under the lock: `current` is the model's enabled row (if any),
 * `others` every other enabled model. Returns the definition to store, or throws an ApiError.
 */
export type ModelChange = (current: ModelDefinition | undefined, others: ModelDefinition[]) => ModelDefinition;

@Injectable()
export class CatalogRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Writes the configured pools and models that have no row yet (enabled or not), and the configured
   * pools no admin changed. Returns the configured ones whose stored row says otherwise: changed or
   * deleted by an admin.
   */
  async seed(catalogue: CatalogueConfig): Promise<SeedDifference[]> {
    return this.prisma.$transaction(async (tx) => {
      // A pool the admin API never touched follows the file (local pools are config-only, and a
      // static pool's ports may change between runs); one created or changed there is left alone.
      await tx.pool.createMany({ data: catalogue.pools.map((p) => ({ name: p.name, ...poolColumns(poolDefinition(p)) })), skipDuplicates: true });
      for (const p of catalogue.pools) await tx.pool.updateMany({ where: { name: p.name, managed: false, enabled: true }, data: poolColumns(poolDefinition(p)) });
      await tx.model.createMany({
        data: catalogue.models.map((m) => ({ name: m.name, ...columns({ ...m, maxOutputTokens: m.maxOutputTokens ?? null }) })),
        skipDuplicates: true,
      });
      const pools = new Map((await tx.pool.findMany({ where: { name: { in: catalogue.pools.map((p) => p.name) } } })).map((r) => [r.name, r]));
      const models = new Map((await tx.model.findMany({ where: { name: { in: catalogue.models.map((m) => m.name) } } })).map((r) => [r.name, r]));
      return [
        ...differences('pool', catalogue.pools, pools, (p) => poolColumns(poolDefinition(p)), (r) => poolColumns(storedPool(r))),
        ...differences('model', catalogue.models, models, (m) => columns({ ...m, maxOutputTokens: m.maxOutputTokens ?? null }), (r) => columns(definition(r))),
      ];
    }, TX_OPTIONS);
  }

  async loadAll(): Promise<{ pools: CatalogPool[]; models: CatalogModel[] }> {
    const pools = await this.prisma.pool.findMany({ where: { enabled: true }, include: { models: { where: { enabled: true } } } });
    const catalogPools: CatalogPool[] = pools.map(storedPool);
    const models: CatalogModel[] = pools.flatMap((p) =>
      p.models.map((m) => ({
        ...definition(m),
        runtime: p.runtime,
        servedModel: p.servedModel,
        createdAt: m.createdAt,
      })),
    );
    return { pools: catalogPools, models };
  }

  /**
   * Creates a model, or brings back a deleted one under the new definition. 409 when an enabled
   * model has the name.
   */
  async create(model: ModelDefinition, check: ModelChange, audit: CatalogAuditEntry): Promise<void> {
    await this.changeModel(model.name, audit, async (tx, current, others) => {
      if (current) throw new ApiError(ErrorCode.Conflict, `The model \`${model.name}\` already exists.`, 'name');
      const next = check(undefined, others);
      const data = { ...columns(next), enabled: true };
      await tx.model.upsert({ where: { name: model.name }, create: { name: model.name, ...data }, update: data });
    });
  }

  /** Replaces an enabled model's definition with what `check` returns. 404 when there is none. */
  async update(name: string, check: ModelChange, audit: CatalogAuditEntry): Promise<void> {
    await this.changeModel(name, audit, async (tx, current, others) => {
      if (!current) throw notFound(name);
      await tx.model.update({ where: { name }, data: columns(check(current, others)) });
    });
  }

  /** Disables an enabled model (the row stays, so the config seed does not recreate it). */
  async disable(name: string, check: (current: ModelDefinition, others: ModelDefinition[]) => void, audit: CatalogAuditEntry): Promise<void> {
    await this.changeModel(name, audit, async (tx, current, others) => {
      if (!current) throw notFound(name);
      check(current, others);
      await tx.model.update({ where: { name }, data: { enabled: false } });
    });
  }

  /**
   * Creates a pool, or brings back a deleted one under the new definition (managed from then on).
   * 409 when an enabled pool has the name.
   */
  async createPool(pool: PoolDefinition, audit: CatalogAuditEntry): Promise<void> {
    await this.change(audit, async (tx) => {
      const row = await tx.pool.findUnique({ where: { name: pool.name } });
      if (row?.enabled) throw new ApiError(ErrorCode.Conflict, `The pool \`${pool.name}\` already exists.`, 'name');
      const data = { ...poolColumns(pool), enabled: true, managed: true };
      await tx.pool.upsert({ where: { name: pool.name }, create: { name: pool.name, ...data }, update: data });
    });
  }

  /** Replaces an enabled pool's definition with what `next` returns from the stored one. 404 when there is none. */
  async updatePool(name: string, next: (current: CatalogPool) => PoolDefinition, audit: CatalogAuditEntry): Promise<void> {
    await this.change(audit, async (tx) => {
      const row = await tx.pool.findUnique({ where: { name } });
      if (!row?.enabled) throw poolNotFound(name);
      await tx.pool.update({ where: { name }, data: { ...poolColumns(next(storedPool(row))), managed: true } });
    });
  }

  /** Disables an enabled pool (the row stays, so the config seed does not recreate it); 409 while a model names it. */
  async disablePool(name: string, audit: CatalogAuditEntry): Promise<void> {
    await this.change(audit, async (tx) => {
      const row = await tx.pool.findUnique({ where: { name } });
      if (!row?.enabled) throw poolNotFound(name);
      const users = await tx.model.findMany({ where: { enabled: true, poolName: name }, select: { name: true } });
      if (users.length) {
        throw new ApiError(ErrorCode.Conflict, `The pool \`${name}\` serves ${users.map((u) => `\`${u.name}\``).join(', ')}: delete those models or move them to another pool first.`, 'pool');
      }
      await tx.pool.update({ where: { name }, data: { enabled: false } });
    });
  }

  /** A model change: `write` sees the model's enabled row (if any) and every other enabled model. */
  private async changeModel(
    name: string,
    audit: CatalogAuditEntry,
    write: (tx: Tx, current: ModelDefinition | undefined, others: ModelDefinition[]) => Promise<void>,
  ): Promise<void> {
    await this.change(audit, async (tx) => {
      const rows = (await tx.model.findMany({ where: { enabled: true } })).map(definition);
      await write(
        tx,
        rows.find((r) => r.name === name),
        rows.filter((r) => r.name !== name),
      );
    });
  }

  /** Every admin change of the catalogue: under the lock, with its audit row, in one transaction. */
  private async change(audit: CatalogAuditEntry, write: (tx: Tx) => Promise<void>): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await this.lock(tx);
      await write(tx);
      await tx.auditLog.create({ data: auditData(audit) });
    }, TX_OPTIONS);
  }

  private async lock(tx: Tx): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CATALOG_LOCK})`;
  }
}

/** JSON with object keys sorted (jsonb does not keep the order they were written in). */
function stable(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export interface SeedDifference {
  kind: 'pool' | 'model';
  name: string;
  deleted: boolean;
  fields: string[];
}

/** The configured entries whose stored row was deleted or differs in some column. */
function differences<C extends { name: string }, R extends { enabled: boolean }, V extends Record<string, unknown>>(
  kind: SeedDifference['kind'],
  configured: readonly C[],
  stored: ReadonlyMap<string, R>,
  want: (c: C) => V,
  have: (r: R) => V,
): SeedDifference[] {
  return configured.flatMap((c) => {
    const row = stored.get(c.name);
    if (!row) return [];
    const w = want(c);
    const h = have(row);
    const fields = Object.keys(w).filter((k) => stable(w[k]) !== stable(h[k]));
    return !row.enabled || fields.length ? [{ kind, name: c.name, deleted: !row.enabled, fields }] : [];
  });
}

function poolNotFound(name: string): ApiError {
  return new ApiError(ErrorCode.NotFound, `No pool named '${name}'.`, 'pool');
}

function notFound(name: string): ApiError {
  return new ApiError(ErrorCode.ModelNotFound, `The model \`${name}\` does not exist.`, 'model');
}
