/**
 * The fleet: which runtime pods serve each pool and how busy they are. Providers (fleet-provider.ts:
 * local processes, static URLs, Kubernetes pods) report each pool's pod list; this service turns the reports into Pod
 * objects with their connection pools and breakers, and is what the rest of the gateway reads —
 * `podsOf(pool)` on every request, never a provider.
 *
 * Pools come from the catalogue (PostgreSQL): started at boot, then on every catalogue reload a new
 * pool's provider starts, a deleted pool's stops and its pods drain (no new requests, in-flight ones
 * finish), and a changed pool's provider restarts (pods whose URL changed drain the same way).
 */
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { Pool as UndiciPool } from 'undici';
import { CatalogService, type CatalogPool } from '../catalog/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { ApiError, ErrorCode } from '../errors/index.js';
import { LOGGER } from '../observability/index.js';
import { adapterFor } from '../runtimes/index.js';
import type { RuntimeAdapter, RuntimeKind } from '../runtimes/index.js';
import { FLEET_PROVIDERS, type FleetPool, type FleetProvider, type PodEndpoint, type WorkloadReplicas } from './fleet-provider.js';
import { FleetMetrics } from './fleet.metrics.js';
import type { FailureKind } from './pod-health.js';
import { Pod } from './pod.js';

/** A pool as the admin API shows it. */
export interface PoolStatus {
  name: string;
  runtime: RuntimeKind;
  provider: FleetProvider['kind'];
  /** From the provider (Kubernetes: the Deployment); null where it keeps no count (static, discovery only). */
  replicas: WorkloadReplicas | null;
  pods: Array<{ id: string; url: string; state: Pod['state']; inFlight: number; running: number | null; waiting: number | null; kvUsage: number | null }>;
}

@Injectable()
export class FleetService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly pods = new Map<string, Pod[]>();
  private readonly runtimes = new Map<string, RuntimeKind>();
  private readonly providerOf = new Map<string, FleetProvider>();
  /** Each running pool's definition, to tell what a catalogue reload changed. */
  private readonly definitions = new Map<string, string>();
  /** Catalogue reloads are applied one at a time, in order, once the boot start has run. */
  private applying: Promise<void> = Promise.resolve();
  private booted = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: FleetMetrics,
    @Inject(LOGGER) logger: Logger,
    @Inject(FLEET_PROVIDERS) private readonly providers: readonly FleetProvider[],
    private readonly catalog: CatalogService,
  ) {
    this.logger = logger.child({ component: 'fleet' });
    for (const provider of providers) provider.onChange((pool, pods) => this.update(pool, pods));
    catalog.onPoolsChanged((pools) => {
      if (!this.booted) return; // the boot start reads the catalogue itself
      this.applying = this.applying.then(() => this.apply(pools)).catch((err: Error) => this.logger.error({ err: err.message }, 'applying pool changes failed'));
    });
  }

  /** Starts the catalogue's pools at start-up (after the catalogue module has loaded them). */
  async onModuleInit(): Promise<void> {
    this.booted = true;
    await this.start(this.catalog.listPools());
  }

  /** Hands each pool to its provider; resolves when every pool's initial pods are known. */
  async start(pools: readonly FleetPool[]): Promise<void> {
    for (const pool of pools) {
      const provider = this.providers.find((p) => p.kind === pool.provider);
      if (!provider) throw new Error(`pool ${pool.name}: no fleet provider of kind "${pool.provider}" in this build`);
      if (!this.pods.has(pool.name)) this.pods.set(pool.name, []);
      this.runtimes.set(pool.name, pool.runtime);
      this.providerOf.set(pool.name, provider);
      this.definitions.set(pool.name, definitionKey(pool));
    }
    await Promise.all(
      this.providers.map((provider) => {
        const mine = pools.filter((p) => p.provider === provider.kind);
        return mine.length > 0 ? provider.start(mine) : undefined;
      }),
    );
  }

  /**
   * A catalogue reload: starts the pools that are new, stops those that are gone (their pods drain) and
   * restarts those whose definition changed. A pool that fails to start is logged and left without pods
   * (its requests get 503s) until its next change.
   */
  async apply(pools: readonly CatalogPool[]): Promise<void> {
    const wanted = new Map(pools.map((p) => [p.name, p]));
    for (const name of [...this.providerOf.keys()]) {
      const pool = wanted.get(name);
      if (pool && definitionKey(pool) === this.definitions.get(name)) continue;
      if (!this.providerOf.get(name)!.release) {
        // local: config-only pools, changed by a restart with a new config file.
        this.logger.warn({ pool: name }, 'a local pool changed in the catalogue; it keeps running as started until restart');
        continue;
      }
      await this.release(name);
      if (!pool) {
        this.update(name, []); // drains: no new requests, in-flight ones finish
        this.pods.delete(name);
        this.runtimes.delete(name);
        this.logger.info({ pool: name }, 'pool removed');
      }
    }
    for (const pool of pools) {
      if (this.providerOf.has(pool.name)) continue;
      const changed = this.pods.has(pool.name);
      try {
        await this.start([pool]);
        this.logger.info({ pool: pool.name, provider: pool.provider }, changed ? 'pool changed; provider restarted' : 'pool added');
      } catch (err) {
        this.logger.error({ pool: pool.name, provider: pool.provider, err: (err as Error).message }, 'pool could not be started; it has no pods until its next change');
        this.update(pool.name, []);
      }
    }
  }

  /** Resolves once the catalogue reloads seen so far are applied (the admin API answers after that). */
  async settled(): Promise<void> {
    await this.applying;
  }

  /** Takes a pool away from its provider (its pods stay until a report or `update(pool, [])` drains them). */
  private async release(name: string): Promise<void> {
    const provider = this.providerOf.get(name)!;
    this.providerOf.delete(name);
    this.definitions.delete(name);
    await provider.release!(name).catch((err: Error) => this.logger.error({ pool: name, err: err.message }, 'releasing the pool failed'));
  }

  /**
   * Sets a pool's desired replica count; pods come and go through the provider's reports. Errors are
   * ApiErrors: an unknown pool (404), one that cannot be scaled (400), a provider that failed (503).
   */
  async scale(pool: string, replicas: number): Promise<void> {
    const provider = this.providerFor(pool);
    if (provider.kind === 'static') throw new ApiError(ErrorCode.InvalidRequest, `Pool '${pool}' is static: its endpoints are fixed by configuration.`, 'pool');
    try {
      await provider.scale(pool, replicas);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 400) throw new ApiError(ErrorCode.InvalidRequest, (err as Error).message, 'pool');
      this.logger.error({ pool, replicas, err: (err as Error).message }, 'scaling failed');
      throw new ApiError(ErrorCode.FleetUnavailable, `Pool '${pool}' could not be scaled: ${(err as Error).message}`);
    }
  }

  /** Every pool (or the one named) with its replica counts and its pods' load, as last scraped. */
  async describe(only?: string): Promise<PoolStatus[]> {
    const now = Date.now();
    return Promise.all(
      [...this.providerOf].filter(([name]) => only === undefined || name === only).map(async ([name, provider]): Promise<PoolStatus> => {
        let replicas: WorkloadReplicas | null = null;
        try {
          replicas = (await provider.replicas?.(name)) ?? null;
        } catch (err) {
          this.logger.warn({ pool: name, err: (err as Error).message }, 'reading replica counts failed');
        }
        const pods = this.podsOf(name).map((p) => {
          const rt = p.freshRuntime(now, 3 * this.config.scheduling.fleet.scrapeIntervalMs);
          return { id: p.id, url: p.baseUrl, state: p.state, inFlight: p.inFlight, running: rt?.running ?? null, waiting: rt?.waiting ?? null, kvUsage: rt?.kvUsage ?? null };
        });
        return { name, runtime: this.runtimes.get(name)!, provider: provider.kind, replicas, pods };
      }),
    );
  }

  hasPool(pool: string): boolean {
    return this.providerOf.has(pool);
  }

  private providerFor(pool: string): FleetProvider {
    const provider = this.providerOf.get(pool);
    if (!provider) throw new ApiError(ErrorCode.NotFound, `No pool named '${pool}'.`, 'pool');
    return provider;
  }

  podsOf(pool: string): readonly Pod[] {
    return this.pods.get(pool) ?? [];
  }

  allPods(): Pod[] {
    return [...this.pods.values()].flat();
  }

  readyPodCount(): number {
    const now = Date.now();
    return this.allPods().filter((p) => p.isAvailable(now)).length;
  }

  /** How to talk to the pod's runtime (paths, health, metrics). */
  adapterOf(pod: Pod): RuntimeAdapter {
    return adapterFor(this.runtimes.get(pod.pool) ?? 'vllm');
  }

  /**
   * Passive health, fed by the dispatcher: a refused connect ejects the pod at once (it is down); server
   * errors and timeouts do after `failuresToEject` in a row (one bad request must not eject a healthy
   * pod). Ejection and recovery are the pod's circuit breaker (pod-health.ts).
   */
  reportFailure(pod: Pod, kind: FailureKind): void {
    if (pod.breaker.recordFailure(kind, Date.now())) this.ejected(pod, kind === 'connect' ? 'connect refused' : 'consecutive failures');
  }

  reportSuccess(pod: Pod): void {
    pod.breaker.recordSuccess(Date.now());
  }

  /** Active health, fed by the fleet monitor's /health probes. */
  reportProbe(pod: Pod, result: 'ok' | 'failed' | 'refused'): void {
    if (pod.breaker.recordProbe(result, Date.now())) this.ejected(pod, result === 'refused' ? 'health probe refused' : 'health probes failed');
  }

  private ejected(pod: Pod, reason: string): void {
    this.metrics.ejections.inc({ pool: pod.pool });
    this.logger.warn({ pool: pod.pool, pod: pod.id, reason, ejectedForMs: pod.breaker.openUntil - Date.now() }, 'pod ejected');
  }

  /**
   * A provider's report: the pool's complete pod list. Pods are matched by id (a changed URL is a new
   * pod); a pod that left the list is closed once its in-flight requests end.
   */
  private update(pool: string, endpoints: readonly PodEndpoint[]): void {
    const current = this.pods.get(pool);
    if (!current) {
      this.logger.warn({ pool }, 'pod list reported for a pool the fleet was not given');
      return;
    }
    const reported = new Map(endpoints.map((e) => [e.id, e]));
    const next: Pod[] = [];
    for (const pod of current) {
      const endpoint = reported.get(pod.id);
      if (!endpoint || endpoint.baseUrl !== pod.baseUrl) {
        this.remove(pod);
        continue;
      }
      reported.delete(pod.id);
      if (pod.state !== endpoint.phase) {
        this.logger.info({ pool, pod: pod.id, from: pod.state, to: endpoint.phase }, 'pod state changed');
        pod.state = endpoint.phase;
      }
      next.push(pod);
    }
    for (const endpoint of reported.values()) {
      const pod = this.create(pool, endpoint);
      this.logger.info({ pool, pod: pod.id, url: pod.baseUrl, state: pod.state }, 'pod added');
      next.push(pod);
    }
    this.pods.set(pool, next);
  }

  private create(pool: string, endpoint: PodEndpoint): Pod {
    const { connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs, connectionsPerPod } = this.config.upstream;
    const dispatcher = new UndiciPool(endpoint.baseUrl, {
      connections: connectionsPerPod,
      connect: { timeout: connectTimeoutMs },
      headersTimeout: headersTimeoutMs,
      bodyTimeout: bodyTimeoutMs,
      keepAliveTimeout: 30_000,
    });
    const pod = new Pod(endpoint.id, pool, endpoint.baseUrl, dispatcher, this.config.scheduling.fleet.breaker);
    pod.state = endpoint.phase;
    return pod;
  }

  private remove(pod: Pod): void {
    pod.state = 'dead';
    this.logger.info({ pool: pod.pool, pod: pod.id, url: pod.baseUrl }, 'pod removed');
    // Requests still on it end on their own (a dead process's sockets close at once); then the pool closes.
    void pod.dispatcher.close().catch(() => undefined);
  }

  /** Runs after the HTTP server has drained, so in-flight streams finish before their pods stop. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.stop().catch((err: Error) => this.logger.error({ provider: p.kind, err: err.message }, 'fleet provider failed to stop'))));
    await Promise.all(this.allPods().map((p) => p.dispatcher.close().catch(() => undefined)));
  }
}

/** What makes a pool's provider start differently (replicas are the provider's own, through scale). */
function definitionKey(pool: FleetPool): string {
  const { name, runtime, provider, servedModel, template } = pool;
  return JSON.stringify({ name, runtime, provider, servedModel, template });
}
