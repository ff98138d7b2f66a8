/**
 * Virtual time for tests: the clock stands still until `advance(ms)`, which fires every timer that falls
 * due on the way, in due-time order (ties in the order they were armed), each with the clock reading its
 * own due time. Timers armed while advancing fire in the same call if they fall due before its end.
 *
 * Timer callbacks run synchronously inside `advance`; promise continuations they trigger run after it
 * returns, so a test awaits the promise it cares about (or yields a tick) before asserting on them.
 */
import type { Clock, TimerHandle } from './clock.js';

interface ManualTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

export interface ManualClockStart {
  /** Initial monotonic reading (default 0). */
  now?: number;
  /** Initial wall-clock reading (default 2030-01-01T00:00:00Z, far from any real timestamp in a test). */
  wallNow?: number;
}

export class ManualClock implements Clock {
  private mono: number;
  private wall: number;
  private seq = 0;
  private readonly timers = new Set<ManualTimer>();

  constructor(start: ManualClockStart = {}) {
    this.mono = start.now ?? 0;
    this.wall = start.wallNow ?? Date.UTC(2030, 0, 1);
  }

  now(): number {
    return this.mono;
  }

  wallNow(): number {
    return this.wall;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { at: this.mono + (Number.isFinite(ms) && ms > 0 ? ms : 0), seq: this.seq++, fn };
    this.timers.add(timer);
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle as unknown as ManualTimer);
  }

  /** Timers armed and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing the timers that fall due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be a non-negative number (${ms})`);
    const end = this.mono + ms;
    for (let timer = this.nextDue(end); timer; timer = this.nextDue(end)) {
      this.timers.delete(timer);
      this.moveTo(timer.at);
      timer.fn();
    }
    this.moveTo(end);
  }

  private nextDue(end: number): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const t of this.timers) {
      if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
    }
    return next;
  }

  private moveTo(mono: number): void {
    this.wall += mono - this.mono;
    this.mono = mono;
  }
}
