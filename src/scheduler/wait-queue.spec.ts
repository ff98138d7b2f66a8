import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock/manual-clock.js';
import type { PriorityClass } from '../config/index.js';
import type { Pod } from '../fleet/pod.js';
import { EMPTY_PREFIX } from './placement/prefix-hash.js';
import { AdmissionAborted } from './scheduler.errors.js';
import type { Ticket } from './ticket.js';
import { WaitQueue, type WaitQueueSettings } from './wait-queue.js';

const SETTINGS: WaitQueueSettings = { maxQueuedPerPool: 10, maxQueuedPerOrg: 5, queueTimeoutMs: { interactive: 100, flex: 1_000, batch: 0 } };
const NO_PODS: ReadonlySet<Pod> = new Set();

function ticket(id: string, cls: PriorityClass = 'interactive', flow = 'org-a'): Ticket {
  return { id, flow, weight: 1, cost: 100, cls, promptTokens: 100, prefix: EMPTY_PREFIX, prefillEnd: 'first-byte' };
}

const tick = () => new Promise((r) => setImmediate(r));

function setup(settings: Partial<WaitQueueSettings> = {}) {
  const clock = new ManualClock();
  const deadlines: string[] = [];
  const queue = new WaitQueue<string>(clock, { ...SETTINGS, ...settings }, (t) => {
    deadlines.push(`${t.id}@${clock.now()} (${queue.size()} left)`);
    return new Error(`deadline ${t.id}`);
  });
  /** Adds a waiter; its outcome lands in `results` under its id. */
  const results = new Map<string, string>();
  const add = (t: Ticket, opts: { retry?: boolean; signal?: AbortSignal } = {}) =>
    queue.add(t, NO_PODS, 0, opts.signal, opts.retry ?? false).then(
      (v) => results.set(t.id, `granted ${v}`),
      (err: Error) => results.set(t.id, err instanceof AdmissionAborted ? 'aborted' : err.message),
    );
  /** Grants waiters head first; the ids in the order served. */
  const drain = () => {
    const served: string[] = [];
    for (let w = queue.head(); w; w = queue.head()) {
      served.push(w.ticket.id);
      queue.grant(w, 'lease');
    }
    return served;
  };
  return { clock, queue, deadlines, results, add, drain };
}

describe('WaitQueue', () => {
  it('serves retries first, then interactive, flex and batch strictly, whatever the arrival order', () => {
    const { add, drain } = setup();
    add(ticket('b', 'batch'));
    add(ticket('f', 'flex'));
    add(ticket('i1'));
    add(ticket('r', 'interactive'), { retry: true });
    add(ticket('i2', 'interactive', 'org-b'));
    assert.deepEqual(drain(), ['r', 'i1', 'i2', 'f', 'b']);
  });

  it('refuses a newcomer when the pool queue is full, or its organization holds its share of its class', () => {
    const { queue, add } = setup({ maxQueuedPerPool: 3, maxQueuedPerOrg: 2 });
    add(ticket('a1'));
    add(ticket('a2'));
    assert.equal(queue.refusal(ticket('a3')), 'org_queue_full');
    assert.equal(queue.refusal(ticket('a3', 'flex')), undefined, 'the share is per class');
    assert.equal(queue.refusal(ticket('b1', 'interactive', 'org-b')), undefined);
    add(ticket('b1', 'interactive', 'org-b'));
    assert.equal(queue.refusal(ticket('c1', 'interactive', 'org-c')), 'queue_full');
    queue.rejectAll(new Error('over'));
  });

  it("sheds a waiter at its class's deadline with the owner's error, after it has left the queue", async () => {
    const { clock, queue, deadlines, results, add } = setup();
    add(ticket('i'));
    add(ticket('f', 'flex'));
    add(ticket('b', 'batch'));
    clock.advance(99);
    assert.deepEqual(deadlines, []);
    clock.advance(1);
    await tick();
    assert.deepEqual(deadlines, ['i@100 (2 left)'], 'the retry-after it computes counts only those still waiting');
    assert.equal(results.get('i'), 'deadline i');
    assert.equal(queue.size('interactive'), 0);
    clock.advance(900);
    await tick();
    assert.equal(results.get('f'), 'deadline f');
    clock.advance(86_400_000);
    assert.equal(queue.size(), 1, 'batch waits without a deadline');
    assert.equal(clock.pendingTimers, 0);
  });

  it('disarms the deadline of a waiter that was served', async () => {
    const { clock, deadlines, results, add, drain } = setup();
    add(ticket('i'));
    assert.equal(clock.pendingTimers, 1);
    drain();
    assert.equal(clock.pendingTimers, 0);
    clock.advance(1_000);
    await tick();
    assert.deepEqual(deadlines, []);
    assert.equal(results.get('i'), 'granted lease');
  });

  it('lets a waiter whose signal aborts leave at once, without disturbing the others', async () => {
    const { clock, queue, results, add, drain } = setup();
    const controller = new AbortController();
    add(ticket('gone'), { signal: controller.signal });
    add(ticket('stays', 'interactive', 'org-b'));
    controller.abort();
    await tick();
    assert.equal(results.get('gone'), 'aborted');
    assert.equal(queue.size(), 1);
    assert.equal(clock.pendingTimers, 1, "the departed waiter's deadline is disarmed");
    assert.deepEqual(drain(), ['stays']);
  });

  it('fails the head when the owner says it can never be placed', async () => {
    const { queue, results, add } = setup();
    add(ticket('r'), { retry: true });
    add(ticket('i'));
    queue.failHead(queue.head()!, new Error('no pod left to try'));
    await tick();
    assert.equal(results.get('r'), 'no pod left to try');
    assert.equal(queue.head()?.ticket.id, 'i');
    assert.equal(queue.retries(), 0);
  });

  it('rejects every waiter at shutdown', async () => {
    const { clock, queue, results, add } = setup();
    add(ticket('r'), { retry: true });
    add(ticket('i'));
    add(ticket('b', 'batch'));
    queue.rejectAll(new Error('shutting down'));
    await tick();
    assert.deepEqual([...results.values()], ['shutting down', 'shutting down', 'shutting down']);
    assert.equal(queue.size(), 0);
    assert.equal(clock.pendingTimers, 0);
  });
});
