/**
 * TEST DOUBLE — the deployment controller and the kubelet of the test cluster, acting on the store
 * directly (a real kubelet talks to the API server; the effect on the objects is the same):
 *
 * - controller: keeps as many live (not terminating) pods per Deployment as `spec.replicas`, creating
 *   `<deployment>-<hash>` pods from the template and, on scale-down, deleting the not-ready ones first,
 *   then the newest (a ReplicaSet's order); writes the Deployment's status counts.
 * - kubelet: gives each new pod its own loopback address (127.A.B.N: Linux routes all of 127/8 to lo,
 *   so every pod listens on the same port, as pods do on their own IPs) and runs its first container's
 *   command, with `$(VAR)` expanded from the container's env (`fieldRef: status.podIP` supported). The
 *   pod turns Ready when its readiness probe (httpGet) answers 200. A deleted pod's process gets SIGTERM
 *   (the runtime drains), SIGKILL at the end of the grace period; the object goes once it exited. A
 *   container that dies on its own loses its pod (the object is removed and the controller replaces it:
 *   this kubelet does not restart containers in place).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { markTerminating } from './server.js';
import type { KubeObject, ObjectStore } from './store.js';

export interface KubeletOptions {
  /** Readiness probe period (a real kubelet: periodSeconds, at least 1 s). */
  probeIntervalMs?: number;
  /** First three octets of the pod addresses, e.g. '127.31.7'; random by default so clusters never collide. */
  subnet?: string;
}

interface Container {
  child: ChildProcess;
  ip: string;
  ready: boolean;
  probing: boolean;
  terminating: boolean;
  killTimer?: NodeJS.Timeout;
  stderr: string[];
}

const key = (pod: KubeObject) => `${pod.metadata.namespace}/${pod.metadata.name}`;

export class TestKubelet {
  private readonly containers = new Map<string, Container>();
  private readonly probeIntervalMs: number;
  readonly subnet: string;
  private unsubscribe?: () => void;
  private probeTimer?: NodeJS.Timeout;
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly store: ObjectStore,
    opts: KubeletOptions = {},
  ) {
    this.probeIntervalMs = opts.probeIntervalMs ?? 100;
    const [a, b] = randomBytes(2);
    this.subnet = opts.subnet ?? `127.${10 + (a! % 240)}.${b}`;
  }

  start(): void {
    // Whatever happens to the test's after hooks, no simulator outlives the test process.
    process.once('exit', () => {
      for (const c of this.containers.values()) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    });
    this.unsubscribe = this.store.subscribe((e) => {
      if (e.resource === 'pods' || e.resource === 'deployments') this.schedule();
    });
    this.probeTimer = setInterval(() => this.probe(), this.probeIntervalMs);
    this.schedule();
  }

  /** Stops every container at once (SIGKILL) and stops reconciling; objects stay as they are. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.probeTimer);
    const exits = [...this.containers.values()].map((c) => {
      clearTimeout(c.killTimer);
      if (c.child.exitCode !== null || c.child.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => c.child.once('exit', resolve));
      c.child.kill('SIGKILL');
      return exited;
    });
    await Promise.all(exits);
  }

  /** The process of a pod, e.g. to kill it as a node failure would. */
  processOf(namespace: string, name: string): ChildProcess | undefined {
    return this.containers.get(`${namespace}/${name}`)?.child;
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.reconcile();
    });
  }

  private reconcile(): void {
    for (const deployment of this.store.list('deployments')) this.reconcileDeployment(deployment);
    for (const pod of this.store.list('pods')) this.reconcilePod(pod);
  }

  private reconcileDeployment(d: KubeObject): void {
    const ns = d.metadata.namespace!;
    const owned = this.store.list('pods', ns).filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid));
    const live = owned.filter((p) => !p.metadata.deletionTimestamp);
    const desired = d.spec?.replicas ?? 1;
    for (let i = live.length; i < desired; i++) this.createPod(d);
    if (live.length > desired) {
      const victims = [...live]
        .sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || b.metadata.name.localeCompare(a.metadata.name))
        .slice(0, live.length - desired);
      for (const pod of victims) markTerminating(this.store, pod, d.spec?.template?.spec?.terminationGracePeriodSeconds ?? 30);
    }
    const now = this.store.list('pods', ns).filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid) && !p.metadata.deletionTimestamp);
    const ready = now.filter(isReady).length;
    const status = { replicas: now.length, readyReplicas: ready, availableReplicas: ready, updatedReplicas: now.length, observedGeneration: d.metadata.generation };
    if (JSON.stringify(status) !== JSON.stringify(pick(d.status, Object.keys(status)))) {
      const current = this.store.get('deployments', ns, d.metadata.name);
      if (current) this.store.update('deployments', { ...current, status: { ...current.status, ...status } });
    }
  }

  private createPod(d: KubeObject): void {
    const template = d.spec?.template ?? {};
    const name = `${d.metadata.name}-${randomBytes(4).toString('hex').slice(0, 5)}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    this.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: d.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid!, controller: true }],
      },
      spec: structuredClone(template.spec ?? {}),
      status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] },
    });
  }

  private reconcilePod(pod: KubeObject): void {
    const k = key(pod);
    const container = this.containers.get(k);
    if (pod.metadata.deletionTimestamp) {
      if (!container) {
        this.store.remove('pods', pod.metadata.namespace!, pod.metadata.name);
        return;
      }
      if (!container.terminating) {
        container.terminating = true;
        container.child.kill('SIGTERM');
        const graceMs = Math.max(0, Date.parse(pod.metadata.deletionTimestamp) - Date.now());
        container.killTimer = setTimeout(() => container.child.kill('SIGKILL'), graceMs);
      }
      return;
    }
    if (!container && pod.status?.phase === 'Pending' && pod.spec?.containers?.length) this.run(pod);
  }

  private run(pod: KubeObject): void {
    const ip = this.allocateIp();
    const spec = pod.spec.containers[0];
    const env: Record<string, string> = {};
    for (const e of spec.env ?? []) {
      if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') env[e.name] = ip;
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = pod.metadata.name;
      else if (e.value !== undefined) env[e.name] = expand(String(e.value), env);
    }
    const argv = [...(spec.command ?? []), ...(spec.args ?? [])].map((a: string) => expand(a, env));
    if (argv[0] === 'node') argv[0] = process.execPath;
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    const container: Container = { child, ip, ready: false, probing: false, terminating: false, stderr: [] };
    createInterface({ input: child.stderr! }).on('line', (line) => {
      container.stderr.push(line);
      if (container.stderr.length > 20) container.stderr.shift();
    });
    const k = key(pod);
    this.containers.set(k, container);
    child.once('exit', () => {
      clearTimeout(container.killTimer);
      this.containers.delete(k);
      // Terminated or lost, the pod object goes; a lost pod is replaced by the controller.
      if (!this.stopped) this.store.remove('pods', pod.metadata.namespace!, pod.metadata.name);
    });
    const current = this.store.get('pods', pod.metadata.namespace!, pod.metadata.name)!;
    this.store.update('pods', { ...current, status: { ...current.status, podIP: ip, podIPs: [{ ip }], hostIP: '127.0.0.1', startTime: new Date().toISOString() } });
  }

  private allocateIp(): string {
    const used = new Set([...this.containers.values()].map((c) => c.ip));
    for (let n = 2; n < 255; n++) {
      const ip = `${this.subnet}.${n}`;
      if (!used.has(ip)) return ip;
    }
    throw new Error('test kubelet: no free pod address');
  }

  /** Readiness probes of pods not yet Ready. */
  private probe(): void {
    for (const [k, c] of this.containers) {
      if (c.ready || c.probing || c.terminating) continue;
      const [namespace, name] = k.split('/') as [string, string];
      const pod = this.store.get('pods', namespace, name);
      const probe = pod?.spec?.containers?.[0]?.readinessProbe?.httpGet;
      if (!pod || !probe) continue;
      c.probing = true;
      fetch(`http://${c.ip}:${probe.port}${probe.path ?? '/'}`, { signal: AbortSignal.timeout(1_000) })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status !== 200 || c.terminating || this.stopped) return;
          const current = this.store.get('pods', namespace, name);
          if (!current || current.metadata.deletionTimestamp) return;
          c.ready = true;
          this.store.update('pods', { ...current, status: { ...current.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }] } });
        })
        .catch(() => undefined)
        .finally(() => (c.probing = false));
    }
  }
}

export function isReady(pod: KubeObject): boolean {
  return pod.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
}

function pick(obj: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, obj?.[k]]));
}
