/**
 * Weighted fair queuing between flows (one flow per organization), self-clocked (SCFQ, Golestani 1994).
 *
 * Each flow is a FIFO. The head of a backlogged flow carries a virtual finish tag
 *   F = max(V, F_prev(flow)) + cost / weight
 * where V is the finish tag of the item served last and F_prev the flow's previous finish tag. The head
 * with the smallest F is served next. A flow that sends 10× more does not get more: its tags run ahead
 * of V by its own backlog, so a light flow's next request (tagged from V) overtakes the whole backlog.
 * A flow that was idle restarts at V (no credit is banked while idle). Over any busy period each
 * backlogged flow gets service in proportion to its weight, within one maximum cost.
 *
 * Heads are kept in a binary heap of flows: O(log F) per push and pop, F = flows with waiting items
 * (organizations that have requests queued right now, not all tenants). Cancellation (deadline, client
 * gone) is O(1) and lazy: cancelled items are skipped when they reach their flow's head.
 */

export interface FairItem {
  /** Flow key: the organization. */
  readonly flow: string;
  /** Share of the flow (e.g. by tier); > 0. */
  readonly weight: number;
  /** Service the item will take (e.g. tokens); > 0. */
  readonly cost: number;
}

export interface QueueEntry<T> {
  readonly item: T;
  cancelled: boolean;
  readonly seq: number;
}

class Flow<T> {
  private items: Array<QueueEntry<T>> = [];
  private head = 0;
  /** Finish tag of the flow's last served item. */
  lastFinish = 0;
  /** Finish tag of `tagged`, the head when the tag was computed. */
  finish = 0;
  tagged: QueueEntry<T> | undefined;
  heapIndex = -1;
  /** Items not cancelled. */
  live = 0;

  constructor(readonly key: string) {}

  get first(): QueueEntry<T> | undefined {
    return this.items[this.head];
  }

  get empty(): boolean {
    return this.head >= this.items.length;
  }

  push(entry: QueueEntry<T>): void {
    this.items.push(entry);
  }

  shift(): QueueEntry<T> | undefined {
    const entry = this.items[this.head];
    if (!entry) return undefined;
    this.items[this.head++] = undefined as unknown as QueueEntry<T>;
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return entry;
  }
}

export class FairQueue<T extends FairItem> {
  private vtime = 0;
  private seq = 0;
  private live = 0;
  private readonly flows = new Map<string, Flow<T>>();
  private readonly heap: Array<Flow<T>> = [];

  /** Items waiting (not cancelled). */
  get size(): number {
    return this.live;
  }

  sizeOf(flow: string): number {
    return this.flows.get(flow)?.live ?? 0;
  }

  push(item: T): QueueEntry<T> {
    if (!(item.weight > 0) || !(item.cost > 0)) throw new Error(`fair queue: weight and cost must be positive (${item.weight}, ${item.cost})`);
    let flow = this.flows.get(item.flow);
    if (!flow) {
      flow = new Flow<T>(item.flow);
      this.flows.set(item.flow, flow);
    }
    const entry: QueueEntry<T> = { item, cancelled: false, seq: this.seq++ };
    const wasEmpty = flow.empty;
    flow.push(entry);
    flow.live++;
    this.live++;
    if (wasEmpty) {
      this.tag(flow);
      this.heapPush(flow);
    }
    return entry;
  }

  /** Marks an item cancelled; it no longer counts and will never be returned. */
  cancel(entry: QueueEntry<T>): void {
    if (entry.cancelled) return;
    entry.cancelled = true;
    const flow = this.flows.get(entry.item.flow);
    if (flow) flow.live--;
    this.live--;
  }

  /** The item that would be served next, without removing it. */
  peek(): T | undefined {
    return this.settle()?.first?.item;
  }

  pop(): T | undefined {
    const flow = this.settle();
    if (!flow) return undefined;
    const entry = flow.shift()!;
    flow.live--;
    this.live--;
    this.vtime = flow.finish;
    flow.lastFinish = flow.finish;
    if (flow.empty) {
      this.heapRemoveTop();
      this.flows.delete(flow.key);
    } else {
      this.tag(flow);
      this.siftDown(0);
    }
    return entry.item;
  }

  /** Drops cancelled heads and re-tags changed heads until the top flow's head is live and tagged. */
  private settle(): Flow<T> | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top) return undefined;
      while (top.first?.cancelled) top.shift();
      if (top.empty) {
        this.heapRemoveTop();
        this.flows.delete(top.key);
        continue;
      }
      if (top.first !== top.tagged) {
        this.tag(top);
        this.siftDown(0);
        if (this.heap[0] !== top) continue;
      }
      return top;
    }
  }

  private tag(flow: Flow<T>): void {
    const head = flow.first!;
    flow.tagged = head;
    flow.finish = Math.max(this.vtime, flow.lastFinish) + head.item.cost / head.item.weight;
  }

  private less(a: Flow<T>, b: Flow<T>): boolean {
    return a.finish < b.finish || (a.finish === b.finish && a.tagged!.seq < b.tagged!.seq);
  }

  private heapPush(flow: Flow<T>): void {
    flow.heapIndex = this.heap.length;
    this.heap.push(flow);
    this.siftUp(flow.heapIndex);
  }

  private heapRemoveTop(): void {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    top.heapIndex = -1;
    if (last !== top) {
      this.heap[0] = last;
      last.heapIndex = 0;
      this.siftDown(0);
    }
  }

  private siftUp(i: number): void {
    const { heap } = this;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i], heap[parent])) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const { heap } = this;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < heap.length && this.less(heap[l], heap[smallest])) smallest = l;
      if (r < heap.length && this.less(heap[r], heap[smallest])) smallest = r;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(i: number, j: number): void {
    const { heap } = this;
    const a = heap[i];
    heap[i] = heap[j];
    heap[j] = a;
    heap[i].heapIndex = i;
    heap[j].heapIndex = j;
  }
}
