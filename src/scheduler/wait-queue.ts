/**
 * The requests of one pool waiting for a pod, in order of service: retries first (requests already
 * admitted once whose pod failed before the first byte), then `interactive`, `flex`, `batch` strictly,
 * each a weighted fair queue over organizations (fair-queue.ts).
 *
 * It also bounds the wait: a new request is refused when the pool's queue or its organization's share
 * of it is full (refusal()), a waiter is shed when it waited longer than its class's timeout (the owner
 * builds that error, onDeadline), and it leaves at once when its caller's signal aborts. Deadlines run
 * on the injected clock.
 *
 * The queue only orders and bounds; the owner (PoolScheduler) decides when the head can start and
 * settles it with grant() or failHead().
 */
import type { Clock, TimerHandle } from '../clock/index.js';
import type { PriorityClass } from '../config/index.js';
import type { Pod } from '../fleet/index.js';
import { FairQueue, type QueueEntry } from './fair-queue.js';
import { PRIORITY_CLASSES } from './priority.js';
import { AdmissionAborted, type ShedReason } from './scheduler.errors.js';
import type { Ticket } from './ticket.js';

export interface WaitQueueSettings {
  maxQueuedPerPool: number;
  maxQueuedPerOrg: number;
  /** Longest wait per class; 0: no limit. */
  queueTimeoutMs: Record<PriorityClass, number>;
}

/** A waiting request; T is what it waits for (a lease). */
export interface Waiter<T> {
  readonly flow: string;
  readonly weight: number;
  readonly cost: number;
  readonly ticket: Ticket;
  /** Pods it must not be placed on (tried already). */
  readonly exclude: ReadonlySet<Pod>;
  readonly attempt: number;
  /** Monotonic time it joined the queue. */
  readonly enqueuedAt: number;
}

interface Pending<T> extends Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  entry?: QueueEntry<Pending<T>>;
  settled: boolean;
  timer?: TimerHandle;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class WaitQueue<T> {
  private readonly classes = new Map<PriorityClass, FairQueue<Pending<T>>>(PRIORITY_CLASSES.map((c) => [c, new FairQueue<Pending<T>>()]));
  private readonly retrying: Array<Pending<T>> = [];

  constructor(
    private readonly clock: Clock,
    private readonly settings: WaitQueueSettings,
    /** The error a waiter gets when its class's timeout passes (it has left the queue by then). */
    private readonly onDeadline: (ticket: Ticket) => Error,
  ) {}

  /** Requests waiting: of one class, or all (retries included). */
  size(cls?: PriorityClass): number {
    if (cls) return this.classes.get(cls)!.size;
    let n = this.retrying.length;
    for (const q of this.classes.values()) n += q.size;
    return n;
  }

  /** Retries waiting (they go ahead of every class). */
  retries(): number {
    return this.retrying.length;
  }

  /** Why `ticket` may not join the queue now; undefined when it may. */
  refusal(ticket: Ticket): Extract<ShedReason, 'queue_full' | 'org_queue_full'> | undefined {
    if (this.size() >= this.settings.maxQueuedPerPool) return 'queue_full';
    if (this.classes.get(ticket.cls)!.sizeOf(ticket.flow) >= this.settings.maxQueuedPerOrg) return 'org_queue_full';
    return undefined;
  }

  /**
   * Joins the queue (a retry: ahead of every class). Resolves when the owner grants it, rejects at the
   * class's deadline, when `signal` aborts (AdmissionAborted), or when the owner fails it.
   */
  add(ticket: Ticket, exclude: ReadonlySet<Pod>, attempt: number, signal: AbortSignal | undefined, retry: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Pending<T> = {
        flow: ticket.flow,
        weight: ticket.weight,
        cost: ticket.cost,
        ticket,
        exclude,
        attempt,
        enqueuedAt: this.clock.now(),
        resolve,
        reject,
        settled: false,
      };
      if (retry) this.retrying.push(w);
      else w.entry = this.classes.get(ticket.cls)!.push(w);
      const timeout = this.settings.queueTimeoutMs[ticket.cls];
      if (timeout > 0) {
        w.timer = this.clock.setTimeout(() => {
          this.remove(w);
          this.settle(w, undefined, this.onDeadline(ticket));
        }, timeout);
      }
      if (signal) {
        w.signal = signal;
        w.onAbort = () => {
          this.remove(w);
          this.settle(w, undefined, new AdmissionAborted('the client went away while queued'));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
    });
  }

  /** The request served next: the oldest retry, else the head of the highest class with any waiting. */
  head(): Waiter<T> | undefined {
    if (this.retrying[0]) return this.retrying[0];
    for (const cls of PRIORITY_CLASSES) {
      const w = this.classes.get(cls)!.peek();
      if (w) return w;
    }
    return undefined;
  }

  /** Takes the head `w` off the queue and hands it `value`. */
  grant(w: Waiter<T>, value: T): void {
    this.settle(this.shift(w), value);
  }

  /** Takes the head `w` off the queue and rejects it with `err`. */
  failHead(w: Waiter<T>, err: Error): void {
    this.settle(this.shift(w), undefined, err);
  }

  /** Rejects every waiting request (shutdown). */
  rejectAll(err: Error): void {
    for (const w of this.retrying.splice(0)) this.settle(w, undefined, err);
    for (const q of this.classes.values()) {
      for (let w = q.pop(); w; w = q.pop()) this.settle(w, undefined, err);
    }
  }

  /** Serving the head advances its class's virtual time (pop), unlike leaving early (remove). */
  private shift(w: Waiter<T>): Pending<T> {
    const pending = w as Pending<T>;
    if (this.retrying[0] === pending) this.retrying.shift();
    else this.classes.get(pending.ticket.cls)!.pop();
    return pending;
  }

  private remove(w: Pending<T>): void {
    if (w.settled) return;
    w.settled = true;
    if (w.entry) this.classes.get(w.ticket.cls)!.cancel(w.entry);
    else {
      const at = this.retrying.indexOf(w);
      if (at !== -1) this.retrying.splice(at, 1);
    }
  }

  private settle(w: Pending<T>, value: T | undefined, err?: Error): void {
    w.settled = true;
    this.clock.clearTimeout(w.timer);
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    if (err) w.reject(err);
    else w.resolve(value as T);
  }
}
