/**
 * Helpers for the Kubernetes suites: a gateway whose pool is a Deployment of the test cluster, the real
 * kubectl against the test API server, and readers of the fleet as the gateway sees it.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parseCatalogue, type CatalogueConfig } from '../../src/config/index.js';
import { FleetService } from '../../src/fleet/index.js';
import type { Pod } from '../../src/fleet/index.js';
import { NO_THROTTLE, UNLIMITED_TIERS } from '../scheduling/support.js';
import { bootGateway, type TestGateway } from '../support/harness.js';
import type { TestCluster } from '../support/kube-api/cluster.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const run = promisify(execFile);

/** Runs the real kubectl against the cluster; resolves with its stdout. */
export async function kubectl(cluster: TestCluster, ...args: string[]): Promise<string> {
  const { kubectlPath } = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'lib', 'kubectl.mjs')).href)) as { kubectlPath(): string };
  const { stdout } = await run(kubectlPath(), ['--kubeconfig', cluster.kubeconfig(), '--cache-dir', path.join(path.dirname(cluster.kubeconfig()), 'cache'), ...args], { timeout: 30_000 });
  return stdout;
}

export interface KubePoolSpec {
  pool: string;
  model: string;
  deployment?: string;
  selector?: Record<string, string>;
  port?: number;
  inferencePool?: string;
  servedModel: string;
  /** The pool's catalogue `autoscaling:` section. */
  autoscaling?: Record<string, unknown>;
}

export function kubeCatalogue(pools: KubePoolSpec[]): CatalogueConfig {
  return parseCatalogue(
    {
      pools: pools.map((p) => ({
        name: p.pool,
        runtime: 'sim',
        provider: 'kubernetes',
        servedModel: p.servedModel,
        ...(p.autoscaling ? { autoscaling: p.autoscaling } : {}),
        kubernetes: p.inferencePool ? { namespace: 'default', deployment: p.deployment, inferencePool: p.inferencePool } : { namespace: 'default', deployment: p.deployment, selector: p.selector, port: p.port },
      })),
      models: pools.map((p) => ({ name: p.model, pool: p.pool, contextWindow: 8192, tokenizer: 'llama3' })),
      tiers: UNLIMITED_TIERS,
    },
    'kubernetes test catalogue',
  );
}

export function bootKubeGateway(cluster: TestCluster, catalogue: CatalogueConfig, env: Record<string, string> = {}): Promise<TestGateway> {
  return bootGateway(catalogue, { ...NO_THROTTLE, SWITCHYARD_FLEET_SCRAPE_INTERVAL_MS: '200', SWITCHYARD_KUBECONFIG: cluster.kubeconfig(), ...env });
}

/** The pool's pods as the gateway's fleet holds them. */
export function fleetPods(gw: TestGateway, pool: string): readonly Pod[] {
  return gw.gateway.app.get(FleetService).podsOf(pool);
}

export function podState(gw: TestGateway, pool: string, id: string): Pod['state'] | undefined {
  return fleetPods(gw, pool).find((p) => p.id === id)?.state;
}
