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
  auth: { cacheTtlMs: number; negativeCacheTtlMs: number; cacheMaxEntries: number; negativeCacheMaxEntries: number };
  bodyLimitBytes: number;
  /** How much of an over-limit body is read and discarded before the 413 (edge/body-reader.ts). */
  bodyDrainBytes: number;
  /** Prompt processing: when to tokenize off the event loop, and request-shape limits against abuse. */
  prompt: {
    offloadBytes: number;
    workers: number;
    /** Large prompts waiting for a worker thread, at most. */
    queueMax: number;
    maxMessages: number;
    maxMessageChars: number;
    /** Sequences one request may fan out to: prompts × max(n, best_of). */
    maxSequences: number;
    maxTools: number;
    maxSchemaDepth: number;
    /** Hosts (or `*.domain` patterns) a chat `image_url` may name with http(s); empty: data: URLs only. */
    imageUrlHosts: string[];
    /** Longest `image_url.url`, in characters (a data: URL carries the image). */
    maxImageUrlBytes: number;
  };
  /**
   * Before authentication: per-address limits (0 = off), the proxies whose X-Forwarded-For is believed
   * (empty: the socket address is the client), and the HTTP server's time limits.
   */
  edge: {
    ipRequestsPerMinute: number;
    adminIpRequestsPerMinute: number;
    authFailuresPerMinute: number;
    trustedProxies: string[];
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    streamStallTimeoutMs: number;
  };
  /** /ready's dependency-check cache; the token for /metrics and /ready's detail (none: loopback only). */
  operations: { readyCheckTtlMs: number; metricsToken: string | undefined };
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
   * test hook that lets any client fail or kill a pod, so never on by default. `maxResponseBytes`: the
   * largest non-streamed answer held in memory.
   */
  upstream: { connectTimeoutMs: number; headersTimeoutMs: number; bodyTimeoutMs: number; connectionsPerPod: number; maxResponseBytes: number; simFaultInjection: boolean };
  /** `kubernetes` pools: a kubeconfig file, or (undefined) the in-cluster service account. */
  kubernetes: { kubeconfig?: string };
  /** The autoscaler loop's period and its leader lease (per-pool policies are in the catalogue). */
  autoscaler: { intervalMs: number; leaseMs: number };
  catalogue: CatalogueConfig;
}

/** Injection token for AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
