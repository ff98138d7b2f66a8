/**
 * Boots a real gateway (real PostgreSQL and Redis, real simulator pods) on a free port for a test file,
 * with the official openai SDK pointed at it.
 */
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import type { Scope } from '../../src/tenancy/principal.js';
import { loadConfig, parseCatalogue, type CatalogueConfig, type Tier } from '../../src/config/index.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { SYSTEM_ACTOR } from '../../src/tenancy/actor.js';
import { ApiKeyService } from '../../src/tenancy/api-key.service.js';
import { OrganizationService } from '../../src/tenancy/organization.service.js';

/** Shared by every test gateway: they share one database, so they must hash keys alike. */
export const TEST_KEY_PEPPER = 'switchyard-test-pepper-not-a-secret-0123456789';
/** Platform-admin key of the system organization (SWITCHYARD_BOOTSTRAP_API_KEY) in every test gateway. */
export const TEST_ADMIN_KEY = 'sk-sy-test-platform-admin-key-000000000000';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  /** An inference key of an organization created for this gateway. */
  apiKey: string;
  orgId: string;
  /** Platform admin (system organization). */
  adminKey: string;
  client: OpenAI;
  /** Model names in this gateway's catalogue (unique per test file so parallel files do not collide). */
  names: { chat: string; alias: string; embed: string };
  close(): Promise<void>;
}

export const SIM_PROFILE = 'llama-3.2-1b-h100';

export function uniqueSuffix(): string {
  return randomBytes(3).toString('hex');
}

/** A small catalogue: a chat pool of `replicas` simulator pods and an embedding pool. */
export function testCatalogue(suffix: string, opts: { replicas?: number; simArgs?: string[]; extraPools?: CatalogueConfig['pools']; extraModels?: CatalogueConfig['models'] } = {}): CatalogueConfig {
  return parseCatalogue(
    {
      pools: [
        { name: `chat-${suffix}`, runtime: 'sim', provider: 'local', servedModel: 'meta-llama/Llama-3.2-1B-Instruct', replicas: opts.replicas ?? 1, sim: { profile: SIM_PROFILE, args: ['--max-model-len', '4096', ...(opts.simArgs ?? [])] } },
        { name: `embed-${suffix}`, runtime: 'sim', provider: 'local', servedModel: 'test/embed', replicas: 1, sim: { profile: SIM_PROFILE, args: ['--embedding-dim', '64', '--tokenizer', 'llama3'] } },
        ...(opts.extraPools ?? []),
      ],
      models: [
        { name: `chat-${suffix}`, aliases: [`alias-${suffix}`], pool: `chat-${suffix}`, contextWindow: 4096, tokenizer: 'llama3' },
        { name: `embed-${suffix}`, kind: 'embedding', pool: `embed-${suffix}`, contextWindow: 8192, tokenizer: 'llama3' },
        ...(opts.extraModels ?? []),
      ],
    },
    'test catalogue',
  );
}

export interface TestTenant {
  orgId: string;
  keyId: string;
  apiKey: string;
}

/**
 * A fresh organization with one key, made through the tenancy services as the system (what a platform
 * admin would do over the admin API). Defaults: standard tier, inference scope, every model.
 */
export async function createTenant(
  gateway: Gateway,
  opts: { name?: string; tier?: Tier; orgModels?: string[]; scopes?: Scope[]; allowedModels?: string[]; expiresAt?: Date } = {},
): Promise<TestTenant> {
  const org = await gateway.app.get(OrganizationService).create(SYSTEM_ACTOR, { name: opts.name ?? `test org ${uniqueSuffix()}`, tier: opts.tier, allowedModels: opts.orgModels });
  const { key, secret } = await gateway.app
    .get(ApiKeyService)
    .create(SYSTEM_ACTOR, org.id, { name: 'test key', scopes: opts.scopes, allowedModels: opts.allowedModels, expiresAt: opts.expiresAt });
  return { orgId: org.id, keyId: key.id, apiKey: secret };
}

/**
 * Boots `count` replicas of one deployment together. If any fails to boot, the ones that did are
 * closed before the error is thrown: a suite whose before() failed must not leave a live gateway
 * holding its process open.
 */
export async function bootGateways(count: number, catalogue?: CatalogueConfig, env: Record<string, string> = {}): Promise<TestGateway[]> {
  const booted = await Promise.allSettled(Array.from({ length: count }, () => bootGateway(catalogue, env)));
  const failed = booted.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const up = booted.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed) {
    await Promise.allSettled(up.map((gw) => gw.close()));
    throw failed.reason;
  }
  return up;
}

export async function bootGateway(catalogue?: CatalogueConfig, env: Record<string, string> = {}): Promise<TestGateway> {
  const suffix = uniqueSuffix();
  const config = loadConfig(
    {
      SWITCHYARD_DATABASE_URL: process.env.SWITCHYARD_DATABASE_URL,
      SWITCHYARD_REDIS_URL: process.env.SWITCHYARD_REDIS_URL,
      SWITCHYARD_KEY_PEPPER: TEST_KEY_PEPPER,
      SWITCHYARD_BOOTSTRAP_API_KEY: TEST_ADMIN_KEY,
      SWITCHYARD_PORT: '0',
      SWITCHYARD_SHUTDOWN_GRACE_MS: '10000',
      // Every test gateway shares one Redis and one client IP: the per-IP edge throttle is tested on
      // its own (test/quota/limits-admin.test.ts) and off elsewhere.
      SWITCHYARD_IP_REQUESTS_PER_MINUTE: '0',
      SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE: '0',
      ...env,
    },
    catalogue ?? testCatalogue(suffix),
  );
  const gateway = await startGateway(config, createLogger(process.env.SWITCHYARD_LOG_LEVEL ?? 'silent'));
  const { apiKey, orgId } = await createTenant(gateway, { name: `e2e ${suffix}` });
  const chat = config.catalogue.models.find((m) => m.kind === 'chat')!;
  const embed = config.catalogue.models.find((m) => m.kind === 'embedding');
  return {
    gateway,
    url: gateway.url,
    apiKey,
    orgId,
    adminKey: config.bootstrapApiKey ?? TEST_ADMIN_KEY,
    client: new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0, timeout: 30_000 }),
    names: { chat: chat.name, alias: chat.aliases[0] ?? chat.name, embed: embed?.name ?? '' },
    close: () => gateway.shutdown(),
  };
}
