/**
 * The fleet: which runtime pods serve each pool and how busy they are. Providers put pods in and take
 * them out; the picker reads `podsOf(pool)` on every request.
 *
 * Providers here: `local` (spawns runtimes/sim processes on this machine and restarts them if they die,
 * as a Deployment would) and `static` (fixed URLs, e.g. an existing vLLM server). Kubernetes discovery
 * plugs in as another provider.
 */
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Pool as UndiciPool } from 'undici';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { CatalogPool } from '../catalog/catalog.types.js';
import { adapterFor } from '../runtimes/adapters.js';
import type { RuntimeAdapter, RuntimeKind } from '../runtimes/runtime-adapter.js';
import { spawnSimPod } from '../../runtimes/sim/spawn.js';
import { FleetMetrics } from './fleet.metrics.js';
import type { FailureKind } from './pod-health.js';
import { Pod } from './pod.js';

const RESTART_DELAY_MS = 1_000;

interface LocalProcess {
  stop(): Promise<void>;
}

@Injectable()
export class FleetService implements OnApplicationShutdown {
  private readonly logger = new Logger('fleet');
  private readonly pods = new Map<string, Pod[]>();
  private readonly processes = new Map<Pod, LocalProcess>();
  private readonly runtimes = new Map<string, RuntimeKind>();
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: FleetMetrics,
  ) {}

  async start(pools: readonly CatalogPool[]): Promise<void> {
    await Promise.all(pools.map((pool) => this.startPool(pool)));
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
    const ms = pod.breaker.openUntil - Date.now();
    this.metrics.ejections.inc({ pool: pod.pool });
    this.logger.warn(`pod ${pod.id} ejected for ${ms} ms: ${reason}`);
  }

  private async startPool(pool: CatalogPool): Promise<void> {
    this.pods.set(pool.name, []);
    this.runtimes.set(pool.name, pool.runtime);
    if (pool.provider === 'static') {
      (pool.template.endpoints ?? []).forEach((url, i) => {
        const pod = this.addPod(pool.name, `${pool.name}-${i}`, url);
        pod.state = 'ready';
      });
      return;
    }
    await Promise.all(Array.from({ length: pool.replicas }, (_, i) => this.startLocalPod(pool, i)));
  }

  private async startLocalPod(pool: CatalogPool, index: number): Promise<void> {
    const sim = pool.template.sim;
    if (!sim) throw new Error(`pool ${pool.name}: local provider needs a sim template`);
    const handle = await spawnSimPod({ model: pool.servedModel, profile: sim.profile, args: sim.args ?? [] });
    const pod = this.addPod(pool.name, `${pool.name}-${index}`, handle.baseUrl);
    this.processes.set(pod, handle);
    pod.state = 'ready';
    this.logger.log(`pod ${pod.id} ready at ${pod.baseUrl} (pid ${handle.pid})`);
    void handle.exited.then((code: number | null) => {
      this.processes.delete(pod);
      this.removePod(pod);
      if (this.stopping) return;
      this.logger.warn(`pod ${pod.id} exited with code ${code}; restarting in ${RESTART_DELAY_MS} ms`);
      setTimeout(() => {
        if (!this.stopping) this.startLocalPod(pool, index).catch((err) => this.logger.error(`restart of ${pod.id} failed: ${err}`));
      }, RESTART_DELAY_MS).unref();
    });
  }

  private addPod(pool: string, id: string, baseUrl: string): Pod {
    const { connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs, connectionsPerPod } = this.config.upstream;
    const dispatcher = new UndiciPool(baseUrl, {
      connections: connectionsPerPod,
      connect: { timeout: connectTimeoutMs },
      headersTimeout: headersTimeoutMs,
      bodyTimeout: bodyTimeoutMs,
      keepAliveTimeout: 30_000,
    });
    const pod = new Pod(id, pool, baseUrl, dispatcher, this.config.scheduling.fleet.breaker);
    this.pods.get(pool)!.push(pod);
    return pod;
  }

  private removePod(pod: Pod): void {
    pod.state = 'dead';
    const list = this.pods.get(pod.pool);
    if (list) this.pods.set(pod.pool, list.filter((p) => p !== pod));
    void pod.dispatcher.destroy().catch(() => undefined);
  }

  /** Runs after the HTTP server has drained, so in-flight streams finish before their pods stop. */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.processes.values()].map((p) => p.stop().catch(() => undefined)));
    await Promise.all(this.allPods().map((p) => p.dispatcher.close().catch(() => undefined)));
  }
}
