/** Catalogue rows in PostgreSQL: seeded from config at boot, read once into memory. */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/index.js';
import type { CatalogueConfig } from '../config/index.js';
import type { CatalogModel, CatalogPool } from './catalog.types.js';

@Injectable()
export class CatalogRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Upserts the configured pools and models (config is the source of truth for what it names). */
  async seed(catalogue: CatalogueConfig): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
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
      for (const model of catalogue.models) {
        const data = {
          kind: model.kind,
          aliases: model.aliases,
          poolName: model.pool,
          contextWindow: model.contextWindow,
          maxOutputTokens: model.maxOutputTokens ?? null,
          tokenizer: model.tokenizer,
          inputPricePerMTok: model.inputPricePerMTok,
          outputPricePerMTok: model.outputPricePerMTok,
          capabilities: model.capabilities,
          fallbacks: model.fallbacks,
          ownedBy: model.ownedBy,
        };
        await tx.model.upsert({ where: { name: model.name }, create: { name: model.name, ...data }, update: data });
      }
    });
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
        name: m.name,
        kind: m.kind,
        aliases: m.aliases,
        pool: p.name,
        runtime: p.runtime,
        servedModel: p.servedModel,
        contextWindow: m.contextWindow,
        maxOutputTokens: m.maxOutputTokens,
        tokenizer: m.tokenizer,
        inputPricePerMTok: Number(m.inputPricePerMTok),
        outputPricePerMTok: Number(m.outputPricePerMTok),
        capabilities: m.capabilities as Record<string, boolean>,
        fallbacks: m.fallbacks,
        ownedBy: m.ownedBy,
        createdAt: m.createdAt,
      })),
    );
    return { pools: catalogPools, models };
  }
}
