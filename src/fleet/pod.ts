import { Pool as UndiciPool } from 'undici';

export type PodState = 'starting' | 'ready' | 'dead';

/**
 * One runtime endpoint. `inFlight` is our own count of requests dispatched and not yet finished; the
 * picker reads it on every request, so it lives here rather than in a map keyed by id.
 */
export class Pod {
  state: PodState = 'starting';
  inFlight = 0;
  /** Passive health: after a connect failure or 5xx the pod is skipped until this time (ms epoch). */
  ejectedUntil = 0;
  consecutiveFailures = 0;

  constructor(
    readonly id: string,
    readonly pool: string,
    readonly baseUrl: string,
    readonly dispatcher: UndiciPool,
  ) {}

  isAvailable(now: number): boolean {
    return this.state === 'ready' && this.ejectedUntil <= now;
  }
}
