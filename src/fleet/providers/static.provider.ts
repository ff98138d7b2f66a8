/**
 * Fixed URLs of pods someone else runs (an existing vLLM server, test-started simulators). They are
 * reported ready at once; the fleet monitor's health probes and the breakers take a dead one out of
 * rotation. A static pool cannot be scaled.
 */
import type { FleetPool, FleetProvider, PodListListener } from '../fleet-provider.js';

export class StaticFleetProvider implements FleetProvider {
  readonly kind = 'static' as const;
  private readonly listeners: PodListListener[] = [];

  onChange(listener: PodListListener): void {
    this.listeners.push(listener);
  }

  async start(pools: readonly FleetPool[]): Promise<void> {
    for (const pool of pools) {
      const endpoints = pool.template.endpoints ?? [];
      if (endpoints.length === 0) throw new Error(`pool ${pool.name}: the static provider needs endpoints`);
      const pods = endpoints.map((baseUrl, i) => ({ id: `${pool.name}-${i}`, baseUrl, phase: 'ready' as const }));
      for (const listener of this.listeners) listener(pool.name, pods);
    }
  }

  async scale(pool: string): Promise<void> {
    throw new Error(`pool ${pool} is static: its endpoints are fixed by configuration and cannot be scaled`);
  }

  async release(): Promise<void> {
    // Nothing of ours runs, nothing to stop watching.
  }

  async stop(): Promise<void> {
    // Nothing of ours runs.
  }
}
