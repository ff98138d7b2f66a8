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
    /** Hosts (or `*.domain` patterns) a chat `image_url` may name with http(s); empty: data: URLs only. */
    imageUrlHosts: string[];
    /** Longest `image_url.url`, in characters (a data: URL carries the image). */
    maxImageUrlBytes: number;
  };
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
  /**
   * Upstream HTTP. `simFaultInjection`: forward the client's x-sim-fault header to simulator pods — a
   * test hook that lets any client fail or kill a pod, so never on by default.
   */
  upstream: { connectTimeoutMs: number; headersTimeoutMs: number; bodyTimeoutMs: number; connectionsPerPod: number; simFaultInjection: boolean };
  /** `kubernetes` pools: a kubeconfig file, or (undefined) the in-cluster service account. */
  kubernetes: { kubeconfig?: string };
  /** The autoscaler loop's period and its leader lease (per-pool policies are in the catalogue). */
  autoscaler: { intervalMs: number; leaseMs: number };
  catalogue: CatalogueConfig;
}

/** Injection token for AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
