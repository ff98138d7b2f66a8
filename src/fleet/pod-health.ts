/**
 * Per-pod circuit breaker (outlier ejection, as Envoy does it): passive signals (failed requests) and
 * active ones (the runtime's /health) take a pod out of rotation; after its ejection time it is
 * half-open and gets one trial request (the admission budget allows one in flight); a success closes
 * the breaker, a failure ejects it again for twice as long (capped).
 *
 *   closed ──(refused connect | N failures in a row | M failed probes in a row)──▶ open
 *   open ──(ejection time elapsed)──▶ half-open ──(trial succeeds)──▶ closed
 *                                          └──(trial or probe fails)──▶ open (longer)
 *
 * Pure logic with the time passed in, so it is tested without timers.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * `connect`: the pod refused or reset the connection (it is down): ejects at once.
 * `server`: a 5xx before any output, a timeout, or a stream cut before its first byte.
 */
export type FailureKind = 'connect' | 'server';

export interface BreakerSettings {
  /** Consecutive `server` failures (requests) that eject a pod. */
  failuresToEject: number;
  /** Consecutive failed active probes (/health) that eject a pod. */
  probeFailuresToEject: number;
  /** First ejection time; doubles with each ejection in a row, up to `ejectMaxMs`. */
  ejectBaseMs: number;
  ejectMaxMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = { failuresToEject: 3, probeFailuresToEject: 2, ejectBaseMs: 2_000, ejectMaxMs: 30_000 };

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private probeFailures = 0;
  /** Ejections since the pod last stayed healthy for `ejectMaxMs`: the backoff exponent. */
  private ejections = 0;
  private closedAt = 0;
  /** Epoch ms until which an open breaker stays open. */
  openUntil = 0;
  /** Total ejections, for metrics. */
  ejectionCount = 0;

  constructor(private readonly settings: BreakerSettings = DEFAULT_BREAKER_SETTINGS) {}

  state(now: number): BreakerState {
    if (this.current === 'open' && now >= this.openUntil) this.current = 'half-open';
    return this.current;
  }

  /** Open pods take no traffic; half-open ones take one trial at a time (enforced by admission). */
  allowsTraffic(now: number): boolean {
    return this.state(now) !== 'open';
  }

  recordSuccess(now: number): void {
    this.failures = 0;
    if (this.state(now) === 'half-open') {
      this.current = 'closed';
      this.closedAt = now;
    } else if (this.current === 'closed' && this.ejections > 0 && now - this.closedAt >= this.settings.ejectMaxMs) {
      this.ejections = 0; // healthy for a while: the next ejection starts short again
    }
  }

  /** Returns true when this failure ejected the pod. */
  recordFailure(kind: FailureKind, now: number): boolean {
    const state = this.state(now);
    if (state === 'open') return false;
    this.failures++;
    if (state === 'half-open' || kind === 'connect' || this.failures >= this.settings.failuresToEject) {
      this.eject(now);
      return true;
    }
    return false;
  }

  /**
   * Active health probe result. `refused` means nothing listens (the process is gone): eject at once.
   * Returns true when the probe ejected the pod.
   */
  recordProbe(result: 'ok' | 'failed' | 'refused', now: number): boolean {
    const state = this.state(now);
    if (result === 'ok') {
      this.probeFailures = 0;
      return false;
    }
    if (state === 'open') return false;
    this.probeFailures++;
    if (state === 'half-open' || result === 'refused' || this.probeFailures >= this.settings.probeFailuresToEject) {
      this.eject(now);
      return true;
    }
    return false;
  }

  /** Milliseconds until an open breaker turns half-open (0 when it takes traffic). */
  msUntilTrial(now: number): number {
    return this.state(now) === 'open' ? this.openUntil - now : 0;
  }

  private eject(now: number): void {
    const duration = Math.min(this.settings.ejectMaxMs, this.settings.ejectBaseMs * 2 ** Math.min(this.ejections, 16));
    this.ejections++;
    this.ejectionCount++;
    this.failures = 0;
    this.probeFailures = 0;
    this.current = 'open';
    this.openUntil = now + duration;
  }
}
