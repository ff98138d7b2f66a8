/**
 * A ring-buffer deque for the engine's waiting queue: FCFS at the back, preempted requests pushed
 * back at the front. `remove` is O(n) and only used for aborts.
 */
export class Deque<T> {
  private buf: (T | undefined)[] = new Array(16);
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  pushBack(x: T): void {
    this.grow();
    this.buf[(this.head + this.size) & (this.buf.length - 1)] = x;
    this.size++;
  }

  pushFront(x: T): void {
    this.grow();
    this.head = (this.head - 1) & (this.buf.length - 1);
    this.buf[this.head] = x;
    this.size++;
  }

  peekFront(): T | undefined {
    return this.size === 0 ? undefined : this.buf[this.head];
  }

  popFront(): T | undefined {
    if (this.size === 0) return undefined;
    const x = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.size--;
    return x;
  }

  remove(x: T): boolean {
    const items: T[] = [];
    let found = false;
    while (this.size > 0) {
      const y = this.popFront() as T;
      if (!found && y === x) found = true;
      else items.push(y);
    }
    for (const y of items) this.pushBack(y);
    return found;
  }

  private grow(): void {
    if (this.size < this.buf.length) return;
    const next: (T | undefined)[] = new Array(this.buf.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) & (this.buf.length - 1)];
    this.buf = next;
    this.head = 0;
  }
}
