/** The one typed configuration object every component receives (injected as APP_CONFIG). */
import type { CatalogueConfig } from './catalogue.js';
import type { SchedulingConfig } from './scheduling.js';
import type { LogLevel } from './settings.js';
import type { Limits, Tier } from './tiers.js';

export interface AppConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  databaseUrl: string;
  /** Apply committed migrations (prisma migrate deploy) before serving. */
  migrateOnStart: boolean;
  redisUrl: string;
  /**
   * Server secret mixed into every API key hash (HMAC-SHA256). Shared by all replicas; changing it
   * invalidates every key.
   */
  keyPepper: string;
  /**
   * Optional platform-admin key of the system organization, ensured at boot (created if its hash is not
   * stored yet; never resurrected once revoked). The alternative is `switchyard-admin create-platform-key`.
   */
  bootstrapApiKey?: string;
  /** In-process principal cache in front of the api_keys table; invalidated over Redis pub/sub. */
  auth: { cacheTtlMs: number; negativeCacheTtlMs: number; cacheMaxEntries: number };
  bodyLimitBytes: number;
  /** Prompt processing: when to tokenize off the event loop, and request-shape limits against abuse. */
  prompt: {
    offloadBytes: number;
    workers: number;
    maxMessages: number;
    maxMessageChars: number;
    maxTools: number;
    maxSchemaDepth: number;
  };
  /** /ready's dependency-check cache; the token for /metrics and /ready's detail (none: loopback only). */
  operations: { readyCheckTtlMs: number; metricsToken: string | undefined };
  /** Pre-auth protection per client IP (0 = off); trustProxy makes the client IP come from X-Forwarded-For. */
  edge: { ipRequestsPerMinute: number; adminIpRequestsPerMinute: number; trustProxy: boolean };
  /** Rate limits, quotas and budgets. */
  quota: {
    /** Each tier's default limits: the built-ins (tiers.ts) with the catalogue file's `tiers:` applied. */
    tiers: Record<Tier, Limits>;
    /** Concurrency leases expire this long after their last renewal (a dead gateway's lapse). */
    leaseMs: number;
    /** When Redis is unreachable: refuse ('closed') or admit unchecked ('open'). */
    failMode: { rate: 'open' | 'closed'; spend: 'open' | 'closed' };
  };
  /** Model routing, admission scheduling, pod health. */
  scheduling: SchedulingConfig;
  shutdownGraceMs: number;
  upstream: { connectTimeoutMs: number; headersTimeoutMs: number; bodyTimeoutMs: number; connectionsPerPod: number };
  catalogue: CatalogueConfig;
}

/** Injection token for AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
