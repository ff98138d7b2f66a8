/**
 * Runs at most `concurrency` tasks at once; tasks that must wait are served round-robin by source (the
 * client address), and one source may have at most `maxWaitingPerSource` waiting. So a flood of
 * cache-miss lookups from one address (random keys) delays another address's lookup by at most one
 * lookup per other waiting source, instead of by the whole flood, and cannot grow the queue unbounded.
 */
export class FairLimiter {
  private active = 0;
  /** Waiting tasks per source; Map order is the round-robin order (a served source moves to the back). */
  private readonly queues = new Map<string, Array<() => void>>();

  constructor(
    private readonly concurrency: number,
    private readonly maxWaitingPerSource: number,
  ) {}

  /** The task's result, or undefined when `source` already has the most tasks waiting (not run). */
  run<T>(source: string, task: () => Promise<T>): Promise<T> | undefined {
    if (this.active < this.concurrency) {
      this.active++;
      return this.execute(task);
    }
    let queue = this.queues.get(source);
    if (queue && queue.length >= this.maxWaitingPerSource) return undefined;
    if (!queue) this.queues.set(source, (queue = []));
    const waiting = queue;
    return new Promise<void>((resolve) => waiting.push(resolve)).then(() => this.execute(task));
  }

  /** Tasks waiting for a slot, over every source. */
  get waiting(): number {
    let n = 0;
    for (const queue of this.queues.values()) n += queue.length;
    return n;
  }

  private async execute<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } finally {
      this.next();
    }
  }

  /** Hands the finished task's slot to the next source in turn (so `active` never overshoots). */
  private next(): void {
    const first = this.queues.entries().next();
    if (first.done) {
      this.active--;
      return;
    }
    const [source, queue] = first.value;
    const wake = queue.shift()!;
    this.queues.delete(source);
    if (queue.length) this.queues.set(source, queue);
    wake();
  }
}
