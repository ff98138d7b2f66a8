import type { Pool as UndiciPool } from 'undici';
import { CircuitBreaker, DEFAULT_BREAKER_SETTINGS, type BreakerSettings } from './pod-health.js';
import type { RuntimeSnapshot } from '../runtimes/index.js';

/**
 * `ready`: in rotation (breaker permitting). `draining`: its provider is stopping it; it finishes its
 * requests and takes no new ones. `dead`: gone from the fleet.
 */
export type PodState = 'starting' | 'ready' | 'draining' | 'dead';

/**
 * One runtime endpoint. The scheduler reads and updates the load fields on every admission, so they
 * live here rather than in maps keyed by id.
 *
 * Two views of load: our own (exact and current: what this gateway sent and has not finished) and the
 * runtime's (scraped every second: everything the pod runs, including other replicas' requests).
 * `foreignLoad()` combines them: the runtime's count minus ours at the time of the scrape.
 */
export class Pod {
  state: PodState = 'starting';
  readonly breaker: CircuitBreaker;

  /** Requests this gateway dispatched here and has not finished. */
  inFlight = 0;
  /** Of those, the ones still before their first token (prefill queued or running). */
  prefilling = 0;
  /** Estimated prompt tokens those prefills must compute (prompt minus the expected prefix-cache hit). */
  prefillTokens = 0;
  /**
   * Those prefills whose end we observe (streams, embeddings), oldest first (Set order is insertion
   * order), with when each was granted (performance.now()).
   */
  readonly prefillsSince = new Set<{ readonly grantedAt: number }>();

  /** Last scrape of the runtime's /metrics (undefined until the first one succeeds). */
  runtime?: RuntimeSnapshot;
  /** Our `inFlight` / `prefilling` when `runtime` was scraped. */
  inFlightAtScrape = 0;
  prefillingAtScrape = 0;

  constructor(
    readonly id: string,
    readonly pool: string,
    readonly baseUrl: string,
    readonly dispatcher: UndiciPool,
    breaker: BreakerSettings = DEFAULT_BREAKER_SETTINGS,
  ) {
    this.breaker = new CircuitBreaker(breaker);
  }

  /** In rotation: ready and its breaker not open (half-open pods get a single trial request). */
  isAvailable(now: number): boolean {
    return this.state === 'ready' && this.breaker.allowsTraffic(now);
  }

  recordScrape(snapshot: RuntimeSnapshot): void {
    this.runtime = snapshot;
    this.inFlightAtScrape = this.inFlight;
    this.prefillingAtScrape = this.prefilling;
  }

  /** The scrape if it is recent enough to trust (`maxAgeMs`), else undefined. */
  freshRuntime(now: number, maxAgeMs: number): RuntimeSnapshot | undefined {
    return this.runtime && now - this.runtime.at <= maxAgeMs ? this.runtime : undefined;
  }

  /** performance.now() since which the oldest of our observed prefills here waits (undefined: none). */
  oldestPrefillAt(): number | undefined {
    for (const p of this.prefillsSince) return p.grantedAt;
    return undefined;
  }

  /** Requests the runtime holds that are not ours (other gateway replicas, direct clients). */
  foreignLoad(now: number, maxAgeMs: number): number {
    const rt = this.freshRuntime(now, maxAgeMs);
    return rt ? Math.max(0, rt.running + rt.waiting - this.inFlightAtScrape) : 0;
  }
}
