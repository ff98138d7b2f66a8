/**
 * The kubernetes provider: discovers a pool's pods through the Kubernetes API and scales the pool's
 * Deployment. Per pool, an informer (client-node's ListWatch: list, then watch from the list's
 * resourceVersion; bookmarks keep that version recent; a 410 Gone empties it and the informer
 * re-lists, reporting what vanished meanwhile as deleted) over the pods matching the pool's selector —
 * its own, or its InferencePool's, which is watched too so a changed selector or port takes effect.
 *
 * A pod is reported `ready` once its Ready condition is True and it has an IP, `draining` while it has
 * a deletionTimestamp (it finishes its streams and takes nothing new), and not at all otherwise.
 * Every change is reported within the event-loop turn it arrives in.
 *
 * When the API server is unreachable the informer errors and stops; it is started again after a
 * back-off (250 ms doubling to 2 s), resuming from its last resourceVersion. Meanwhile nothing is
 * reported, so routing keeps the last known pods and the fleet monitor's health probes eject the dead.
 * Every gateway replica watches on its own: discovery needs no leader.
 */
import type { ListWatch, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubernetesPoolConfig } from '../../../config/index.js';
import type { FleetPool, FleetProvider, PodEndpoint, PodListListener, WorkloadReplicas } from '../../fleet-provider.js';
import { KubeApiError, KubeClient, labelSelectorOf, type InferencePoolObject } from './kube-client.js';
import type { KubernetesMetrics } from './kubernetes.metrics.js';

const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 2_000;

interface Target {
  selector: Record<string, string>;
  port: number;
}

/** One informer that restarts itself after errors until stopped. */
class Watched<T extends { metadata?: { name?: string } }> {
  private retryTimer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;
  private attemptFailed = false;
  lastError?: Error;

  private readonly labels: { pool: string; resource: string };

  constructor(
    readonly informer: ListWatch<T & object>,
    private readonly what: string,
    private readonly logger: Logger,
    private readonly metrics: KubernetesMetrics | undefined,
    labels: { pool: string; resource: 'pods' | 'inferencepools' },
    onChange: () => void,
  ) {
    this.labels = labels;
    for (const verb of ['add', 'update', 'delete'] as const) {
      informer.on(verb, () => {
        metrics?.events.inc(this.labels);
        onChange();
      });
    }
    informer.on('error', (err?: unknown) => this.failed(err));
  }

  /** Starts; resolves false when the first list failed (the informer then keeps retrying). */
  async start(): Promise<boolean> {
    this.attemptFailed = false;
    await this.informer.start();
    if (!this.attemptFailed) {
      this.failures = 0;
      this.metrics?.connected.set(this.labels, 1);
    }
    return !this.attemptFailed;
  }

  stop(): void {
    this.metrics?.connected.remove(this.labels);
    this.stopped = true;
    clearTimeout(this.retryTimer);
    void this.informer.stop();
  }

  private failed(err: unknown): void {
    if (this.stopped) return; // the abort of our own stop()
    this.attemptFailed = true;
    this.metrics?.connected.set(this.labels, 0);
    this.metrics?.errors.inc(this.labels);
    this.lastError = err instanceof Error ? err : new Error(String((err as { message?: string })?.message ?? err));
    const delayMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.failures++);
    this.logger.warn({ watch: this.what, err: this.lastError.message, retryInMs: delayMs }, 'kubernetes watch failed; keeping the last known pods');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      void this.start().then((ok) => {
        if (ok) this.logger.info({ watch: this.what }, 'kubernetes watch resumed');
      });
    }, delayMs);
    this.retryTimer.unref();
  }
}

interface PoolState {
  readonly pool: FleetPool;
  readonly spec: KubernetesPoolConfig;
  target?: Target;
  pods?: Watched<V1Pod>;
  inferencePool?: Watched<InferencePoolObject>;
  /** What was last reported, to skip reports that change nothing. */
  reported?: string;
  reportQueued: boolean;
}

export class KubernetesFleetProvider implements FleetProvider {
  readonly kind = 'kubernetes' as const;
  private readonly logger: Logger;
  private readonly listeners: PodListListener[] = [];
  private readonly pools = new Map<string, PoolState>();
  private client?: KubeClient;

  /** `client` is made from `kubeconfig` (or the in-cluster account) on start unless given. */
  constructor(
    logger: Logger,
    private readonly kubeconfig: string | undefined,
    private readonly metrics?: KubernetesMetrics,
    client?: KubeClient,
  ) {
    this.logger = logger.child({ component: 'fleet', provider: 'kubernetes' });
    this.client = client;
  }

  onChange(listener: PodListListener): void {
    this.listeners.push(listener);
  }

  /**
   * Lists each pool's pods (and reads its InferencePool, and its Deployment's scale) before resolving;
   * any of them failing fails the start with none of these pools left watching (pools started earlier,
   * at boot or at run time, keep theirs).
   */
  async start(pools: readonly FleetPool[]): Promise<void> {
    try {
      this.client ??= KubeClient.load(this.kubeconfig);
      for (const pool of pools) {
        const spec = pool.template.kubernetes;
        if (!spec) throw new Error(`pool ${pool.name}: the kubernetes provider needs a kubernetes section`);
        this.pools.set(pool.name, { pool, spec, reportQueued: false });
      }
      await Promise.all(pools.map((pool) => this.startPool(this.pools.get(pool.name)!)));
    } catch (err) {
      await Promise.all(pools.map((pool) => this.release(pool.name)));
      throw err;
    }
  }

  async release(pool: string): Promise<void> {
    const state = this.pools.get(pool);
    if (!state) return;
    this.pools.delete(pool);
    state.pods?.stop();
    state.inferencePool?.stop();
  }

  private async startPool(state: PoolState): Promise<void> {
    const { spec, pool } = state;
    const client = this.client!;
    if (spec.deployment) await client.getScale(spec.namespace, spec.deployment); // exists, and we may read it
    if (spec.inferencePool) {
      const what = `inferencepools/${spec.inferencePool} in ${spec.namespace}`;
      const informer = client.inferencePoolInformer(spec.namespace, spec.inferencePool);
      state.inferencePool = new Watched(informer, what, this.logger, this.metrics, { pool: pool.name, resource: 'inferencepools' }, () => this.retarget(state));
      if (!(await state.inferencePool.start())) throw new Error(`pool ${pool.name}: cannot read ${what}: ${state.inferencePool.lastError?.message}`);
      const target = this.inferencePoolTarget(state);
      if (!target) throw new Error(`pool ${pool.name}: ${what} not found, or it has no selector.matchLabels and targetPorts[0].number`);
      state.target = target;
    } else {
      state.target = { selector: spec.selector!, port: spec.port! };
    }
    await this.watchPods(state, true);
    this.logger.info({ pool: pool.name, namespace: spec.namespace, selector: labelSelectorOf(state.target.selector), port: state.target.port, server: client.server }, 'watching pods');
  }

  /** (Re)starts the pool's pod informer for its current target; at boot a failed first list throws. */
  private async watchPods(state: PoolState, boot: boolean): Promise<void> {
    state.pods?.stop();
    const { namespace } = state.spec;
    const target = state.target!;
    const what = `pods ${labelSelectorOf(target.selector)} in ${namespace}`;
    const labels = { pool: state.pool.name, resource: 'pods' as const };
    const watched = new Watched(this.client!.podInformer(namespace, target.selector), what, this.logger, this.metrics, labels, () => this.queueReport(state));
    state.pods = watched;
    const ok = await watched.start();
    if (!ok && boot) throw new Error(`pool ${state.pool.name}: cannot list ${what}: ${watched.lastError?.message}`);
    this.queueReport(state);
  }

  private inferencePoolTarget(state: PoolState): Target | undefined {
    const obj = state.inferencePool?.informer.list(state.spec.namespace).find((o) => o.metadata?.name === state.spec.inferencePool);
    const selector = obj?.spec?.selector?.matchLabels;
    const port = obj?.spec?.targetPorts?.[0]?.number;
    if (!selector || Object.keys(selector).length === 0 || !port) return undefined;
    return { selector, port };
  }

  /** The InferencePool changed: a new selector or port means a new pod watch; gone means keep the last. */
  private retarget(state: PoolState): void {
    if (!state.target) return; // still starting
    const target = this.inferencePoolTarget(state);
    if (!target) {
      this.logger.warn({ pool: state.pool.name, inferencePool: state.spec.inferencePool }, 'InferencePool deleted or emptied; keeping its last pods');
      return;
    }
    if (JSON.stringify(target) === JSON.stringify(state.target)) return;
    this.logger.info({ pool: state.pool.name, selector: labelSelectorOf(target.selector), port: target.port }, 'InferencePool changed; watching its new pods');
    state.target = target;
    void this.watchPods(state, false);
  }

  /** Coalesces the events of one turn (an initial list delivers one per pod) into one report. */
  private queueReport(state: PoolState): void {
    if (state.reportQueued) return;
    state.reportQueued = true;
    queueMicrotask(() => {
      state.reportQueued = false;
      this.report(state);
    });
  }

  private report(state: PoolState): void {
    if (!state.pods || !state.target || this.pools.get(state.pool.name) !== state) return; // released meanwhile
    const pods = endpointsOf(state.pods.informer.list(state.spec.namespace), state.target.port);
    const key = JSON.stringify(pods);
    if (key === state.reported) return;
    state.reported = key;
    for (const listener of this.listeners) listener(state.pool.name, pods);
  }

  async scale(pool: string, replicas: number): Promise<void> {
    const { spec } = this.poolState(pool);
    if (!spec.deployment) throw new KubeApiError(`pool ${pool} names no deployment: its pods are discovered, and scaled by whoever runs them`, 400);
    await this.client!.setScale(spec.namespace, spec.deployment, replicas);
    this.logger.info({ pool, deployment: spec.deployment, namespace: spec.namespace, replicas }, 'scaled pool');
  }

  /** Desired, current and ready replicas of the pool's Deployment (undefined without one). */
  async replicas(pool: string): Promise<WorkloadReplicas | undefined> {
    const { spec } = this.poolState(pool);
    if (!spec.deployment) return undefined;
    return this.client!.getDeploymentStatus(spec.namespace, spec.deployment);
  }

  async stop(): Promise<void> {
    for (const state of this.pools.values()) {
      state.pods?.stop();
      state.inferencePool?.stop();
    }
  }

  private poolState(pool: string): PoolState {
    const state = this.pools.get(pool);
    if (!state) throw new Error(`pool ${pool} is not run by the kubernetes provider`);
    return state;
  }
}

/** A pod's endpoint as the fleet sees it: Ready with an IP → ready; terminating with an IP → draining. */
export function endpointOf(pod: V1Pod, port: number): PodEndpoint | undefined {
  const ip = pod.status?.podIP;
  const name = pod.metadata?.name;
  if (!ip || !name) return undefined;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  if (pod.metadata?.deletionTimestamp) return pod.status?.phase === 'Running' ? { id: name, baseUrl: `http://${host}:${port}`, phase: 'draining' } : undefined;
  if (pod.status?.phase !== 'Running' || !pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return undefined;
  return { id: name, baseUrl: `http://${host}:${port}`, phase: 'ready' };
}

export function endpointsOf(pods: readonly V1Pod[], port: number): PodEndpoint[] {
  return pods
    .map((p) => endpointOf(p, port))
    .filter((e): e is PodEndpoint => e !== undefined)
    .sort((a, b) => a.id.localeCompare(b.id));
}
