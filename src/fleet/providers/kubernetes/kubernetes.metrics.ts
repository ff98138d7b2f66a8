/**
 * The kubernetes provider's watches on our /metrics: whether each pool's watch is connected (0 means
 * routing runs on the last known pods), the watch events received and the failures, by pool.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export class KubernetesMetrics {
  readonly connected: Gauge<'pool' | 'resource'>;
  readonly events: Counter<'pool' | 'resource'>;
  readonly errors: Counter<'pool' | 'resource'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.connected = new Gauge({
      name: 'switchyard_kubernetes_watch_connected',
      help: "1 while a pool's Kubernetes watch is established, 0 while it is failing (routing keeps the last known pods).",
      labelNames: ['pool', 'resource'] as const,
      registers,
    });
    this.events = new Counter({
      name: 'switchyard_kubernetes_watch_events_total',
      help: 'Objects added, changed or deleted as seen by a pool\'s Kubernetes informer (re-lists included).',
      labelNames: ['pool', 'resource'] as const,
      registers,
    });
    this.errors = new Counter({
      name: 'switchyard_kubernetes_watch_errors_total',
      help: "Failures of a pool's Kubernetes list or watch (each is retried after a back-off).",
      labelNames: ['pool', 'resource'] as const,
      registers,
    });
  }
}
