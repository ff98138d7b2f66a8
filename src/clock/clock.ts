/**
 * Time, injected. Components that measure durations, keep deadlines or arm timers take a Clock instead
 * of calling performance.now / Date.now / setTimeout, so their tests run on ManualClock (virtual time:
 * no sleeps, no flaky margins) and production runs on systemClock.
 *
 * Two readings, because two kinds of time are in use: `now()` is monotonic (performance.now) and is
 * what durations, deadlines and rates are measured in; `wallNow()` is the wall clock (Date.now) and is
 * what timestamps shared with other components are in (a pod's breaker, its last scrape).
 */

declare const timerBrand: unique symbol;
/** A pending timeout; only the clock that armed it can clear it. */
export type TimerHandle = { readonly [timerBrand]: true };

export interface TimerOptions {
  /** The timer alone does not keep the process alive (Node's `unref`); ignored by virtual clocks. */
  unref?: boolean;
}

export interface Clock {
  /** Monotonic milliseconds; only differences mean anything. */
  now(): number;
  /** Wall-clock milliseconds since the epoch. */
  wallNow(): number;
  /** Calls `fn` once, `ms` from now (monotonic). */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle;
  /** Cancels a pending timeout; no-op for undefined or one that already fired. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms, options) {
    const timer = setTimeout(fn, ms);
    if (options?.unref) timer.unref();
    return timer as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as unknown as NodeJS.Timeout | undefined);
  },
};

/** Nest injection token of the process's Clock (systemClock; tests construct components with a ManualClock). */
export const CLOCK = Symbol('CLOCK');
