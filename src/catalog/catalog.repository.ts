/**
 * Catalogue rows in PostgreSQL, the source of truth: the config file seeds the models that have no row
 * yet (a deleted model keeps its row, disabled, so the seed never brings it back), the admin API
 * creates, changes and deletes them. Pools are still written from config (their admin API is the
 * fleet's). Every admin change runs under one transaction-scoped advisory lock, re-checks the rules
 * against the rows it sees there and writes its audit row in the same transaction. The seed takes no
 * lock: it only inserts rows that are absent (ON CONFLICT DO NOTHING), which cannot undo a change.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/index.js';
import type { Model, Prisma } from '../generated/prisma/client.js';
import type { CatalogueConfig } from '../config/index.js';
import { ApiError, ErrorCode } from '../errors/index.js';
import type { CatalogAuditEntry, CatalogModel, CatalogPool, ModelDefinition } from './catalog.types.js';

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
   * Writes the configured pools, and the configured models that have no row yet (enabled or not).
   * Returns the configured models whose stored row says otherwise: changed or deleted by an admin.
   */
  async seed(catalogue: CatalogueConfig): Promise<Array<{ name: string; deleted: boolean; fields: string[] }>> {
    return this.prisma.$transaction(async (tx) => {
      for (const pool of catalogue.pools) {
        const data = {
          runtime: pool.runtime,
          provider: pool.provider,
          servedModel: pool.servedModel,
          template: { sim: pool.sim ?? null, local: pool.local ? { ...pool.local } : null, endpoints: pool.endpoints ?? null, kubernetes: pool.kubernetes ? { ...pool.kubernetes } : null },
          replicas: pool.replicas,
          maxReplicas: Math.max(pool.replicas, 1),
        };
        await tx.pool.upsert({ where: { name: pool.name }, create: { name: pool.name, ...data }, update: data });
      }
      await tx.model.createMany({
        data: catalogue.models.map((m) => ({ name: m.name, ...columns({ ...m, maxOutputTokens: m.maxOutputTokens ?? null }) })),
        skipDuplicates: true,
      });
      const stored = new Map((await tx.model.findMany({ where: { name: { in: catalogue.models.map((m) => m.name) } } })).map((r) => [r.name, r]));
      return catalogue.models.flatMap((m) => {
        const row = stored.get(m.name);
        if (!row) return [];
        const want = columns({ ...m, maxOutputTokens: m.maxOutputTokens ?? null });
        const have = columns(definition(row));
        const fields = (Object.keys(want) as Array<keyof typeof want>).filter((k) => stable(want[k]) !== stable(have[k]));
        return !row.enabled || fields.length ? [{ name: m.name, deleted: !row.enabled, fields }] : [];
      });
    }, TX_OPTIONS);
  }

  async loadAll(): Promise<{ pools: CatalogPool[]; models: CatalogModel[] }> {
    const pools = await this.prisma.pool.findMany({ include: { models: { where: { enabled: true } } } });
    const catalogPools: CatalogPool[] = pools.map((p) => ({
      name: p.name,
      runtime: p.runtime,
      provider: p.provider,
      servedModel: p.servedModel,
      replicas: p.replicas,
      template: (p.template ?? {}) as CatalogPool['template'],
    }));
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
    await this.change(model.name, audit, async (tx, current, others) => {
      if (current) throw new ApiError(ErrorCode.Conflict, `The model \`${model.name}\` already exists.`, 'name');
      const next = check(undefined, others);
      const data = { ...columns(next), enabled: true };
      await tx.model.upsert({ where: { name: model.name }, create: { name: model.name, ...data }, update: data });
    });
  }

  /** Replaces an enabled model's definition with what `check` returns. 404 when there is none. */
  async update(name: string, check: ModelChange, audit: CatalogAuditEntry): Promise<void> {
    await this.change(name, audit, async (tx, current, others) => {
      if (!current) throw notFound(name);
      await tx.model.update({ where: { name }, data: columns(check(current, others)) });
    });
  }

  /** Disables an enabled model (the row stays, so the config seed does not recreate it). */
  async disable(name: string, check: (current: ModelDefinition, others: ModelDefinition[]) => void, audit: CatalogAuditEntry): Promise<void> {
    await this.change(name, audit, async (tx, current, others) => {
      if (!current) throw notFound(name);
      check(current, others);
      await tx.model.update({ where: { name }, data: { enabled: false } });
    });
  }

  private async change(
    name: string,
    audit: CatalogAuditEntry,
    write: (tx: Tx, current: ModelDefinition | undefined, others: ModelDefinition[]) => Promise<void>,
  ): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await this.lock(tx);
      const rows = (await tx.model.findMany({ where: { enabled: true } })).map(definition);
      await write(
        tx,
        rows.find((r) => r.name === name),
        rows.filter((r) => r.name !== name),
      );
      await tx.auditLog.create({ data: auditData(audit) });
    }, TX_OPTIONS);
  }

  private async lock(tx: Tx): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CATALOG_LOCK})`;
  }
}

/** JSON with object keys sorted (jsonb does not keep the order they were written in). */
function stable(value: unknown): string {
  return JSON.stringify(value, value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).sort() : undefined);
}

function notFound(name: string): ApiError {
  return new ApiError(ErrorCode.ModelNotFound, `The model \`${name}\` does not exist.`, 'model');
}
