/**
 * The fleet's control loop: every `scrapeIntervalMs` (1 s), for every ready pod, GET its runtime's
 * load metrics (running, waiting, KV-cache usage, prefix-cache counters → Pod.runtime, re-exported per
 * pool on our /metrics) and its health path (active health → the pod's circuit breaker). Which paths,
 * and how to read the metrics, the pod's runtime adapter says. A pod whose previous probe is still
 * running is skipped for the tick, so a hung pod cannot pile up requests.
 *
 * Probes use their own small connection pool with short timeouts, never the inference connections.
 * After each tick, listeners (the scheduler) run: budgets may have changed, and a half-open pod may take
 * a trial request.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { LOGGER } from '../observability/index.js';
import type { RuntimeSnapshot } from '../runtimes/index.js';
import { FleetMetrics } from './fleet.metrics.js';
import { FleetService } from './fleet.service.js';
import type { Pod } from './pod.js';

const REFUSED = /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|other side closed/;

@Injectable()
export class FleetMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly agent: Agent;
  private readonly probing = new Set<Pod>();
  /** Index into the pod's adapter's metricsSources (advanced when a source answers 404). */
  private readonly source = new WeakMap<Pod, number>();
  private readonly listeners: Array<() => void> = [];
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly fleet: FleetService,
    private readonly metrics: FleetMetrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'fleet' });
    const timeout = config.scheduling.fleet.probeTimeoutMs;
    metrics.watch(() => fleet.allPods(), 3 * config.scheduling.fleet.scrapeIntervalMs);
    this.agent = new Agent({ connections: 2, connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout, keepAliveTimeout: 10_000 });
  }

  /** Starts the loop (gateway boot, after the fleet started); the first tick runs at once. */
  /** The 1 s loop starts once every module is up (stopped at shutdown). */
  onApplicationBootstrap(): void {
    this.start();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.config.scheduling.fleet.scrapeIntervalMs);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Called after every tick. */
  onTick(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** One round of probes over every pod; resolves when all finished. */
  async tick(): Promise<void> {
    const pods = this.fleet.allPods().filter((p) => p.state === 'ready' && !this.probing.has(p));
    await Promise.all(pods.map((pod) => this.probe(pod)));
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, 'fleet tick listener failed');
      }
    }
  }

  private async probe(pod: Pod): Promise<void> {
    this.probing.add(pod);
    try {
      const adapter = this.fleet.adapterOf(pod);
      const index = (this.source.get(pod) ?? 0) % adapter.metricsSources.length;
      const source = adapter.metricsSources[index]!;
      const [metrics, health] = await Promise.allSettled([this.get(pod, source.path), this.get(pod, adapter.healthPath)]);
      if (pod.state === 'dead') return;
      if (metrics.status === 'fulfilled' && metrics.value.status === 200) {
        this.record(pod, () => source.parse(metrics.value.text, Date.now(), pod.runtime), source.path);
      } else {
        if (metrics.status === 'fulfilled' && metrics.value.status === 404 && adapter.metricsSources.length > 1) {
          // This runtime's preferred exporter is off: read the next one from the next tick on.
          const next = (index + 1) % adapter.metricsSources.length;
          this.source.set(pod, next);
          this.logger.info({ pool: pod.pool, pod: pod.id, path: source.path, next: adapter.metricsSources[next]!.path }, 'metrics path answered 404; switching');
        }
        this.metrics.scrapeFailed(pod);
      }
      if (health.status === 'fulfilled') this.fleet.reportProbe(pod, health.value.status === 200 ? 'ok' : 'failed');
      else this.fleet.reportProbe(pod, REFUSED.test(String((health.reason as Error)?.message) + String((health.reason as { code?: string })?.code)) ? 'refused' : 'failed');
    } finally {
      this.probing.delete(pod);
    }
  }

  private record(pod: Pod, parse: () => RuntimeSnapshot, path: string): void {
    const previous = pod.runtime;
    try {
      pod.recordScrape(parse());
    } catch (err) {
      this.metrics.scrapeFailed(pod);
      this.logger.debug({ pool: pod.pool, pod: pod.id, path, err: (err as Error).message }, 'unreadable runtime metrics');
      return;
    }
    this.metrics.scraped(pod, previous);
  }

  private async get(pod: Pod, path: string): Promise<{ status: number; text: string }> {
    const res = await this.agent.request({ origin: pod.baseUrl, path, method: 'GET' });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop();
    await this.agent.close().catch(() => undefined);
  }
}
