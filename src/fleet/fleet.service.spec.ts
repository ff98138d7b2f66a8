import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { AppConfig } from '../config/index.js';
import { ApiError, ErrorCode } from '../errors/index.js';
import { MetricsService } from '../observability/metrics.service.js';
import type { FleetPool, FleetProvider, FleetProviderKind, PodEndpoint, PodListListener } from './fleet-provider.js';
import { FleetMetrics } from './fleet.metrics.js';
import { FleetService } from './fleet.service.js';
import type { CatalogService } from '../catalog/catalog.service.js';

/** A provider driven by the test: it reports whatever the test says. */
class FakeProvider implements FleetProvider {
  readonly started: FleetPool[][] = [];
  readonly scaled: Array<[string, number]> = [];
  stopped = false;
  private listener?: PodListListener;

  constructor(readonly kind: FleetProviderKind) {}

  onChange(listener: PodListListener): void {
    this.listener = listener;
  }
  async start(pools: readonly FleetPool[]): Promise<void> {
    this.started.push([...pools]);
  }
  scaleError?: Error & { status?: number };
  async scale(pool: string, replicas: number): Promise<void> {
    if (this.scaleError) throw this.scaleError;
    this.scaled.push([pool, replicas]);
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  report(pool: string, pods: PodEndpoint[]): void {
    this.listener!(pool, pods);
  }
}

const CONFIG = {
  upstream: { connectTimeoutMs: 1_000, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000, connectionsPerPod: 4, maxResponseBytes: 1 << 20 },
  scheduling: { fleet: { scrapeIntervalMs: 1_000, probeTimeoutMs: 500, breaker: { failuresToEject: 3, probeFailuresToEject: 2, ejectBaseMs: 2_000, ejectMaxMs: 30_000 } } },
} as unknown as AppConfig;

function pool(name: string, provider: FleetProviderKind, runtime: FleetPool['runtime'] = 'vllm'): FleetPool {
  return { name, runtime, provider, servedModel: 'm', replicas: 1, template: {} };
}

function fleetWith(...providers: FakeProvider[]): FleetService {
  return new FleetService(CONFIG, new FleetMetrics(new MetricsService()), pino({ level: 'silent' }), providers, { listPools: () => [], onPoolsChanged: () => undefined } as unknown as CatalogService);
}

const ready = (id: string, port: number): PodEndpoint => ({ id, baseUrl: `http://127.0.0.1:${port}`, phase: 'ready' });

describe('FleetService', () => {
  it('hands each pool to the provider of its kind, and refuses a kind it has no provider for', async () => {
    const local = new FakeProvider('local');
    const fixed = new FakeProvider('static');
    const fleet = fleetWith(local, fixed);
    await fleet.start([pool('a', 'local'), pool('b', 'static'), pool('c', 'local')]);
    assert.deepEqual(
      local.started.map((pools) => pools.map((p) => p.name)),
      [['a', 'c']],
    );
    assert.deepEqual(
      fixed.started.map((pools) => pools.map((p) => p.name)),
      [['b']],
    );
    await assert.rejects(fleetWith(local).start([pool('d', 'static')]), /no fleet provider of kind "static"/);
    await fleet.onApplicationShutdown();
  });

  it("keeps each pool's pods from its provider's reports: added, kept, removed, replaced when the URL changes", async () => {
    const provider = new FakeProvider('local');
    const fleet = fleetWith(provider);
    await fleet.start([pool('a', 'local')]);
    assert.deepEqual(fleet.podsOf('a'), []);

    provider.report('a', [ready('a-0', 9001), ready('a-1', 9002)]);
    const [a0, a1] = fleet.podsOf('a');
    assert.deepEqual([a0!.id, a1!.id], ['a-0', 'a-1']);
    assert.equal(fleet.readyPodCount(), 2);

    provider.report('a', [ready('a-0', 9001), ready('a-1', 9003)]);
    assert.equal(fleet.podsOf('a')[0], a0, 'an unchanged pod keeps its object (and its load and breaker)');
    assert.notEqual(fleet.podsOf('a')[1], a1, 'a new URL is a new pod');
    assert.equal(a1!.state, 'dead');

    provider.report('a', []);
    assert.deepEqual(fleet.podsOf('a'), []);
    assert.equal(a0!.state, 'dead');
    await fleet.onApplicationShutdown();
  });

  it('takes a draining pod out of rotation but keeps it until its provider drops it', async () => {
    const provider = new FakeProvider('local');
    const fleet = fleetWith(provider);
    await fleet.start([pool('a', 'local')]);
    provider.report('a', [ready('a-0', 9001), ready('a-1', 9002)]);
    const a1 = fleet.podsOf('a')[1]!;
    a1.inFlight = 2;
    provider.report('a', [ready('a-0', 9001), { ...ready('a-1', 9002), phase: 'draining' }]);
    assert.equal(fleet.podsOf('a')[1], a1);
    assert.equal(a1.state, 'draining');
    assert.equal(a1.isAvailable(Date.now()), false);
    assert.equal(fleet.readyPodCount(), 1);
    await fleet.onApplicationShutdown();
  });

  it("ignores reports for pools it was not given, scales through the pool's provider, and stops providers at shutdown", async () => {
    const provider = new FakeProvider('local');
    const fleet = fleetWith(provider);
    await fleet.start([pool('a', 'local', 'trtllm')]);
    provider.report('zzz', [ready('zzz-0', 9001)]);
    assert.deepEqual(fleet.podsOf('zzz'), []);
    await fleet.scale('a', 3);
    assert.deepEqual(provider.scaled, [['a', 3]]);
    await assert.rejects(fleet.scale('nope', 1), (err: unknown) => err instanceof ApiError && err.code === ErrorCode.NotFound && err.param === 'pool');
    provider.scaleError = Object.assign(new Error('names no deployment'), { status: 400 });
    await assert.rejects(fleet.scale('a', 1), (err: unknown) => err instanceof ApiError && err.code === ErrorCode.InvalidRequest && /names no deployment/.test(err.message));
    provider.scaleError = new Error('the Kubernetes API server is unreachable');
    await assert.rejects(fleet.scale('a', 1), (err: unknown) => err instanceof ApiError && err.code === ErrorCode.FleetUnavailable && /unreachable/.test(err.message));
    assert.deepEqual(provider.scaled, [['a', 3]]);
    provider.report('a', [ready('a-0', 9001)]);
    assert.equal(fleet.adapterOf(fleet.podsOf('a')[0]!).kind, 'trtllm');
    await fleet.onApplicationShutdown();
    assert.equal(provider.stopped, true);
  });
});
