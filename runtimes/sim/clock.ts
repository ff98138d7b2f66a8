/**
 * Time behind an interface so the engine runs in real time in the server and in virtual time in
 * unit tests (a discrete-event queue that jumps from one timer to the next).
 */

export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Runs `fn` after `delayMs` (≤ 0: as soon as possible, after pending I/O). */
  setTimer(delayMs: number, fn: () => void): void;
}

/** Wall-clock time: performance.now, setTimeout, and setImmediate for zero delays. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, fn) {
    if (delayMs <= 0) setImmediate(fn);
    else setTimeout(fn, delayMs);
  },
};

interface TimerEntry {
  at: number;
  seq: number;
  fn: () => void;
}

/** Discrete-event clock: timers fire in (time, insertion) order and time jumps between them. */
export class VirtualClock implements Clock {
  private time = 0;
  private counter = 0;
  private readonly heap: TimerEntry[] = [];

  now(): number {
    return this.time;
  }

  setTimer(delayMs: number, fn: () => void): void {
    this.push({ at: this.time + Math.max(0, delayMs), seq: this.counter++, fn });
  }

  /** Fires timers until none is left or the next one is later than `untilMs`. Returns events fired. */
  run(untilMs = Infinity, maxEvents = 50_000_000): number {
    let fired = 0;
    while (this.heap.length > 0 && this.heap[0].at <= untilMs) {
      if (++fired > maxEvents) throw new Error(`VirtualClock: more than ${maxEvents} events (runaway simulation?)`);
      const entry = this.pop();
      this.time = entry.at;
      entry.fn();
    }
    if (untilMs !== Infinity && untilMs > this.time) this.time = untilMs;
    return fired;
  }

  get pending(): number {
    return this.heap.length;
  }

  private less(a: TimerEntry, b: TimerEntry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(entry: TimerEntry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): TimerEntry {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as TimerEntry;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
