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
import { spawnSimPod } from '../../runtimes/sim/spawn.js';
import { Pod } from './pod.js';

const RESTART_DELAY_MS = 1_000;
const EJECT_MS = 5_000;
const EJECT_AFTER_ERRORS = 3;

interface LocalProcess {
  stop(): Promise<void>;
}

@Injectable()
export class FleetService implements OnApplicationShutdown {
  private readonly logger = new Logger('fleet');
  private readonly pods = new Map<string, Pod[]>();
  private readonly processes = new Map<Pod, LocalProcess>();
  private stopping = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

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

  /**
   * Passive health: a refused connect takes the pod out of rotation at once (it is down); server
   * errors do after EJECT_AFTER_ERRORS in a row (one bad request must not eject a healthy pod).
   */
  reportFailure(pod: Pod, kind: 'connect' | 'server'): void {
    pod.consecutiveFailures++;
    if (kind === 'connect' || pod.consecutiveFailures >= EJECT_AFTER_ERRORS) pod.ejectedUntil = Date.now() + EJECT_MS;
  }

  reportSuccess(pod: Pod): void {
    pod.consecutiveFailures = 0;
  }

  private async startPool(pool: CatalogPool): Promise<void> {
    this.pods.set(pool.name, []);
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
    const pod = new Pod(id, pool, baseUrl, dispatcher);
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
