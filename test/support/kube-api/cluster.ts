/**
 * TEST DOUBLE — a whole test "cluster": the object store, the API server in front of it, the
 * controller + kubelet running simulator pods, and helpers to declare a simulator Deployment and an
 * InferencePool and to write a kubeconfig for clients (the gateway, kubectl).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestKubelet, type KubeletOptions } from './kubelet.js';
import { KubeApiServer, type KubeApiServerOptions } from './server.js';
import { ObjectStore, type KubeObject } from './store.js';

export { isReady } from './kubelet.js';
export { KubeApiServer } from './server.js';
export { ObjectStore, type KubeObject } from './store.js';

const SIM_MAIN = fileURLToPath(new URL('../../../runtimes/sim/main.js', import.meta.url));

export interface SimDeploymentSpec {
  name: string;
  namespace?: string;
  replicas: number;
  servedModel: string;
  profile: string;
  /** Labels of the pods (the selector); default `{app: <name>}`. */
  labels?: Record<string, string>;
  /** Model loading time before the pod's port opens (the simulator's --fault-slow-start-ms). */
  startupDelayMs?: number;
  /** How long a terminating pod may drain (terminationGracePeriodSeconds). */
  terminationGraceSeconds?: number;
  args?: string[];
}

export class TestCluster {
  readonly store = new ObjectStore();
  readonly api: KubeApiServer;
  readonly kubelet: TestKubelet;
  /** The port every pod's runtime listens on (on its own address). */
  podPort = 0;
  private dir = mkdtempSync(path.join(tmpdir(), 'switchyard-kube-'));

  constructor(opts: KubeApiServerOptions & KubeletOptions = {}) {
    this.api = new KubeApiServer(this.store, opts);
    this.kubelet = new TestKubelet(this.store, opts);
  }

  static async start(opts: KubeApiServerOptions & KubeletOptions = {}): Promise<TestCluster> {
    const cluster = new TestCluster(opts);
    cluster.podPort = await freePort();
    await cluster.api.start();
    cluster.kubelet.start();
    return cluster;
  }

  /** A kubeconfig file naming this API server (plain HTTP, no credentials). */
  kubeconfig(): string {
    const file = path.join(this.dir, 'kubeconfig.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: test',
        `  cluster: {server: "${this.api.url}", insecure-skip-tls-verify: true}`,
        'users:',
        '- name: test',
        '  user: {}',
        'contexts:',
        '- name: test',
        '  context: {cluster: test, user: test, namespace: default}',
        'current-context: test',
        '',
      ].join('\n'),
    );
    return file;
  }

  createDeployment(spec: SimDeploymentSpec): KubeObject {
    const labels = spec.labels ?? { app: spec.name };
    const args = ['--model', spec.servedModel, '--profile', spec.profile, '--host', '$(POD_IP)', '--port', String(this.podPort), ...(spec.args ?? [])];
    if (spec.startupDelayMs) args.push('--fault-slow-start-ms', String(spec.startupDelayMs));
    return this.store.create('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: spec.name, namespace: spec.namespace ?? 'default', labels },
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: spec.terminationGraceSeconds ?? 30,
            containers: [
              {
                name: 'runtime',
                command: ['node', SIM_MAIN],
                args,
                env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
                ports: [{ name: 'http', containerPort: this.podPort }],
                readinessProbe: { httpGet: { path: '/health', port: this.podPort } },
              },
            ],
          },
        },
      },
      status: { replicas: 0, readyReplicas: 0, availableReplicas: 0, updatedReplicas: 0, observedGeneration: 0 },
    });
  }

  createInferencePool(name: string, matchLabels: Record<string, string>, port: number, namespace = 'default'): KubeObject {
    return this.store.create('inferencepools', {
      apiVersion: 'inference.networking.k8s.io/v1',
      kind: 'InferencePool',
      metadata: { name, namespace },
      spec: { selector: { matchLabels }, targetPorts: [{ number: port }], endpointPickerRef: { name: `${name}-epp`, port: { number: 9002 } } },
    });
  }

  pods(namespace = 'default', labels?: Record<string, string>): KubeObject[] {
    return this.store
      .list('pods', namespace)
      .filter((p) => !labels || Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  async stop(): Promise<void> {
    await this.kubelet.stop();
    await this.api.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
