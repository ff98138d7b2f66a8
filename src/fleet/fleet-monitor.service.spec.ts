import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { AppConfig } from '../config/index.js';
import { MetricsService } from '../observability/metrics.service.js';
import { FleetMonitor } from './fleet-monitor.service.js';
import { FleetMetrics } from './fleet.metrics.js';
import { FleetService } from './fleet.service.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import { StaticFleetProvider } from './providers/static.provider.js';

const CONFIG = {
  upstream: { connectTimeoutMs: 1_000, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000, connectionsPerPod: 2, maxResponseBytes: 1 << 20 },
  scheduling: { fleet: { scrapeIntervalMs: 1_000, probeTimeoutMs: 1_000, breaker: { failuresToEject: 3, probeFailuresToEject: 2, ejectBaseMs: 2_000, ejectMaxMs: 30_000 } } },
} as unknown as AppConfig;

/** A server answering `routes` (path → [status, body]) and counting the paths asked. */
async function server(routes: Record<string, [number, string]>): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const s = http.createServer((req, res) => {
    hits.push(req.url!);
    const [status, body] = routes[req.url!] ?? [404, '{"detail":"Not Found"}'];
    res.statusCode = status;
    res.end(body);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, hits, close: () => new Promise((resolve) => s.close(() => resolve())) };
}

describe('FleetMonitor', () => {
  let trtllm: Awaited<ReturnType<typeof server>>;
  let vllm: Awaited<ReturnType<typeof server>>;
  let fleet: FleetService;
  let monitor: FleetMonitor;

  before(async () => {
    // A trtllm-serve without return_perf_metrics: no /prometheus/metrics, JSON iteration stats on /metrics.
    trtllm = await server({
      '/health': [200, ''],
      '/metrics': [200, JSON.stringify([{ numActiveRequests: 3, numQueuedRequests: 2, kvCacheStats: { maxNumBlocks: 100, usedNumBlocks: 50, tokensPerBlock: 32 } }])],
    });
    vllm = await server({ '/health': [200, ''], '/metrics': [200, 'vllm:num_requests_running{engine="0"} 7\nvllm:kv_cache_usage_perc{engine="0"} 0.5\n'] });
    const metrics = new FleetMetrics(new MetricsService());
    const logger = pino({ level: 'silent' });
    fleet = new FleetService(CONFIG, metrics, logger, [new StaticFleetProvider()], { listPools: () => [], onPoolsChanged: () => undefined } as unknown as CatalogService);
    await fleet.start([
      { name: 't', runtime: 'trtllm', provider: 'static', servedModel: 'm', replicas: 1, template: { endpoints: [trtllm.url] } },
      { name: 'v', runtime: 'vllm', provider: 'static', servedModel: 'm', replicas: 1, template: { endpoints: [vllm.url] } },
    ]);
    monitor = new FleetMonitor(CONFIG, fleet, metrics, logger);
  });
  after(async () => {
    await monitor.onApplicationShutdown();
    await fleet.onApplicationShutdown();
    await Promise.all([trtllm.close(), vllm.close()]);
  });

  it("reads each pod's load where and as its runtime's adapter says, moving on from an exporter that answers 404", async () => {
    await monitor.tick();
    const [t] = fleet.podsOf('t');
    const [v] = fleet.podsOf('v');
    assert.equal(v!.runtime?.running, 7);
    assert.equal(v!.runtime?.kvUsage, 0.5);
    assert.equal(t!.runtime, undefined, 'Prometheus exporter tried first, absent');
    await monitor.tick();
    const scraped = fleet.podsOf('t')[0]!.runtime;
    assert.equal(scraped?.running, 3);
    assert.equal(scraped?.waiting, 2);
    assert.equal(scraped?.kvUsage, 0.5);
    assert.equal(scraped?.kvCapacityTokens, 3_200);
    assert.deepEqual(
      trtllm.hits.filter((p) => p !== '/health'),
      ['/prometheus/metrics', '/metrics'],
    );
    assert.deepEqual(
      vllm.hits.filter((p) => p !== '/health'),
      ['/metrics', '/metrics'],
    );
    assert.equal(t!.breaker.state(Date.now()), 'closed');
  });
});
