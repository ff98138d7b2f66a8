import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pool as UndiciPool } from 'undici';
import { ManualClock } from '../clock/manual-clock.js';
import type { PriorityClass } from '../config/index.js';
import { ApiError } from '../errors/api-error.js';
import { Pod } from '../fleet/pod.js';
import { createRoutingPolicy } from './placement/pod-scorer.js';
import { EMPTY_PREFIX, prefixKey } from './placement/prefix-hash.js';
import type { Lease } from './lease.js';
import { PoolScheduler, type PoolSchedulerSettings } from './pool-scheduler.js';
import { AdmissionAborted, NoRetryTarget } from './scheduler.errors.js';
import type { Ticket } from './ticket.js';

const SETTINGS: PoolSchedulerSettings = {
  maxInFlightPerPod: 100,
  prefillBudgetTokens: 1000,
  prefillStallMs: 0,
  kvHighWatermark: 0.9,
  staleAfterMs: 3_000,
  maxQueuedPerPool: 100,
  maxQueuedPerOrg: 50,
  queueTimeoutMs: { interactive: 5_000, flex: 5_000, batch: 0 },
  affinityEntries: 10_000,
  prefixBlockChars: 64,
};

function makePods(n: number): Pod[] {
  return Array.from({ length: n }, (_, i) => {
    const pod = new Pod(`p${i}`, 'pool', `http://p${i}`, {} as UndiciPool);
    pod.state = 'ready';
    return pod;
  });
}

type Policy = 'round-robin' | 'least-load' | 'prefix-load';

/** A scheduler on virtual time: nothing in it moves unless the test advances `clock`. */
function scheduler(pods: Pod[], settings: Partial<PoolSchedulerSettings> = {}, policy: Policy = 'least-load', clock = new ManualClock()) {
  return new PoolScheduler('pool', () => pods, createRoutingPolicy(policy, 1.5), { ...SETTINGS, ...settings }, clock);
}

let seq = 0;
function ticket(over: Partial<Ticket> = {}): Ticket {
  return { id: `r${seq++}`, flow: 'org-a', weight: 1, cost: 100, cls: 'interactive', promptTokens: 600, prefix: EMPTY_PREFIX, prefillEnd: 'first-byte', ...over };
}

/** Lets promise continuations run (not a sleep: no time passes on the scheduler's clock). */
const tick = () => new Promise((r) => setImmediate(r));

/** The outcome of a promise so far, without waiting for it. */
function outcome<T>(p: Promise<T>): { value?: T; error?: unknown; settled: boolean } {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  p.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

function scrape(pod: Pod, at: number, over: Partial<Parameters<Pod['recordScrape']>[0]> = {}): void {
  pod.recordScrape({ at, running: 0, waiting: 0, kvUsage: 0, prefixQueries: 0, prefixHits: 0, preemptions: 0, ...over });
}

/** Admits and records the order in which requests got their lease. */
function track(s: PoolScheduler, order: string[], t: Ticket, signal?: AbortSignal): Promise<Lease> {
  return s.admit(t, signal).then((lease) => {
    order.push(t.id);
    return lease;
  });
}

describe('PoolScheduler (admission per pool)', () => {
  it('starts a request at once on a pod with headroom and accounts for it', async () => {
    const pods = makePods(2);
    const s = scheduler(pods);
    const lease = await s.admit(ticket({ promptTokens: 400 }));
    assert.equal(lease.pod.inFlight, 1);
    assert.equal(lease.pod.prefilling, 1);
    assert.equal(lease.pod.prefillTokens, 400);
    assert.equal(lease.pod.prefillsSince.size, 1);
    lease.firstToken();
    assert.equal(lease.pod.prefilling, 0);
    assert.equal(lease.pod.prefillTokens, 0);
    assert.equal(lease.pod.prefillsSince.size, 0);
    const cut = await s.admit(ticket({ promptTokens: 400 }));
    cut.release(); // ended before its first token (client gone, upstream failure)
    assert.equal(cut.pod.prefillsSince.size, 0);
    assert.equal(cut.pod.prefillTokens, 0);
    lease.release();
    lease.release(); // idempotent
    assert.equal(lease.pod.inFlight, 0);
  });

  it('holds requests beyond the prefill budget in the gateway and starts the next one at a first token', async () => {
    const pods = makePods(1);
    const s = scheduler(pods);
    const first = await s.admit(ticket({ promptTokens: 600 }));
    const order: string[] = [];
    const second = track(s, order, ticket({ id: 'second', promptTokens: 600 }));
    await tick();
    assert.deepEqual(order, [], '600 + 600 > 1000: the second waits');
    assert.equal(s.queued(), 1);
    first.firstToken(); // the first is decoding now: its prefill no longer counts
    const lease = await second;
    assert.deepEqual(order, ['second']);
    assert.equal(lease.pod.inFlight, 2);
    assert.equal(s.queued(), 0);
  });

  it("counts a non-streamed generation's prefill done after the pool's estimated time to first token", async () => {
    const clock = new ManualClock();
    const s = scheduler(makePods(1), {}, 'least-load', clock);
    const json = await s.admit(ticket({ promptTokens: 600, prefillEnd: 'estimate' }));
    const order: string[] = [];
    const next = track(s, order, ticket({ id: 'next', promptTokens: 600 }));
    // No stream has been observed yet: the prior, 0.05 ms per prompt token plus 256 fixed, i.e. 42.8 ms.
    clock.advance(42);
    await tick();
    assert.deepEqual(order, [], '600 + 600 > 1000 while the first is still counted as prefilling');
    clock.advance(1);
    await next;
    assert.deepEqual(order, ['next']);
    assert.equal(json.pod.prefillTokens, 600, "only the second's prefill is counted now");
    json.release();
    const early = await s.admit(ticket({ promptTokens: 10, prefillEnd: 'estimate' }));
    assert.equal(clock.pendingTimers, 1);
    early.release();
    assert.equal(clock.pendingTimers, 0, 'a request finished before its estimate leaves no timer behind');
  });

  it('lets any single prompt through an idle pod, however large', async () => {
    const s = scheduler(makePods(1));
    const lease = await s.admit(ticket({ promptTokens: 50_000 }));
    assert.equal(lease.uncachedTokens, 50_000);
  });

  it('serves interactive before flex before batch, whatever the arrival order', async () => {
    const pods = makePods(1);
    const s = scheduler(pods);
    const blocker = await s.admit(ticket({ promptTokens: 1000 }));
    const order: string[] = [];
    const classes: PriorityClass[] = ['batch', 'flex', 'interactive', 'batch', 'interactive'];
    const waits = new Map(classes.map((cls, i) => [`${cls}-${i}`, track(s, order, ticket({ id: `${cls}-${i}`, cls, promptTokens: 1000 }))]));
    await tick();
    blocker.release();
    // One runs at a time (each fills the prefill budget): finish each as soon as it is admitted.
    for (let i = 0; i < classes.length; i++) {
      await tick();
      (await waits.get(order[i])!).release();
    }
    assert.deepEqual(order, ['interactive-2', 'interactive-4', 'flex-1', 'batch-0', 'batch-3']);
  });

  it("gives a light organization's request the next slot, ahead of a flooding organization's backlog", async () => {
    const pods = makePods(1);
    const s = scheduler(pods);
    const blocker = await s.admit(ticket({ promptTokens: 1000 }));
    const order: string[] = [];
    const flood = Array.from({ length: 30 }, (_, i) => track(s, order, ticket({ id: `a${i}`, flow: 'flooder', promptTokens: 1000 })));
    await tick();
    const light = track(s, order, ticket({ id: 'b0', flow: 'light', promptTokens: 1000 }));
    await tick();
    blocker.release();
    // Serve one at a time: each admitted request finishes before the next slot opens.
    for (let served = 0; served < 3; served++) {
      await tick();
      const id = order[served];
      const lease = await (id === 'b0' ? light : flood[Number(id.slice(1))]);
      lease.release();
    }
    assert.ok(order.slice(0, 2).includes('b0'), `order: ${order.slice(0, 3).join(' ')}`);
    s.rejectAll(new Error('test over'));
    await Promise.allSettled(flood);
  });

  it('sheds at the class deadline with 503 model_overloaded and retry-after, not a moment before', async () => {
    const clock = new ManualClock();
    const s = scheduler(makePods(1), { queueTimeoutMs: { interactive: 50, flex: 80, batch: 0 } }, 'least-load', clock);
    const blocker = await s.admit(ticket({ promptTokens: 1000 }));
    const interactive = outcome(s.admit(ticket({ promptTokens: 1000 })));
    const flex = outcome(s.admit(ticket({ promptTokens: 1000, cls: 'flex' })));
    const batch = outcome(s.admit(ticket({ promptTokens: 1000, cls: 'batch' })));
    clock.advance(49);
    await tick();
    assert.equal(interactive.settled, false, 'still within its 50 ms');
    clock.advance(1);
    await tick();
    const err = interactive.error;
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, 503);
    assert.equal(err.code, 'model_overloaded');
    assert.match(err.message, /waited 0 s for capacity/);
    assert.ok(Number(err.headers['retry-after']) >= 1);
    assert.equal(s.queued('interactive'), 0);
    assert.equal(flex.settled, false, 'each class has its own timeout');
    clock.advance(30);
    await tick();
    assert.ok(flex.error instanceof ApiError && flex.error.code === 'model_overloaded');
    clock.advance(3_600_000);
    await tick();
    assert.equal(batch.settled, false, 'batch has no timeout');
    assert.equal(s.queued(), 1);
    blocker.release();
    await tick();
    assert.equal(batch.value?.pod, blocker.pod, 'and is served once the pod frees up');
  });

  it('bounds the queue: 503 when the pool queue is full, 429 when one organization holds its share', async () => {
    const s = scheduler(makePods(1), { maxQueuedPerPool: 3, maxQueuedPerOrg: 2 });
    const blocker = await s.admit(ticket({ promptTokens: 1000 }));
    const a = [s.admit(ticket({ flow: 'a', promptTokens: 1000 })), s.admit(ticket({ flow: 'a', promptTokens: 1000 }))];
    await assert.rejects(s.admit(ticket({ flow: 'a', promptTokens: 1000 })), (err: unknown) => err instanceof ApiError && err.status === 429 && err.code === 'rate_limit_exceeded');
    const b = s.admit(ticket({ flow: 'b', promptTokens: 1000 }));
    await assert.rejects(s.admit(ticket({ flow: 'c', promptTokens: 1000 })), (err: unknown) => err instanceof ApiError && err.status === 503 && err.code === 'model_overloaded');
    s.rejectAll(new Error('over'));
    await Promise.allSettled([...a, b]);
    blocker.release();
  });

  it('drops a request from the queue when its client disconnects', async () => {
    const s = scheduler(makePods(1));
    const blocker = await s.admit(ticket({ promptTokens: 1000 }));
    const controller = new AbortController();
    const waiting = s.admit(ticket({ promptTokens: 1000 }), controller.signal);
    await tick();
    assert.equal(s.queued(), 1);
    controller.abort();
    await assert.rejects(waiting, AdmissionAborted);
    assert.equal(s.queued(), 0);
    blocker.release();
    assert.equal(blocker.pod.inFlight, 0, 'the departed request never took a slot');
  });

  it('refuses at once with 503 no_pod_available when no pod is in rotation, retry-after until the first half-opens', async () => {
    const clock = new ManualClock();
    const pods = makePods(2);
    pods[0].breaker.recordFailure('connect', clock.wallNow()); // ejected for 2 s (the breaker's first ejection)
    clock.advance(1_000);
    pods[1].breaker.recordFailure('connect', clock.wallNow());
    const s = scheduler(pods, {}, 'least-load', clock);
    assert.equal(s.isDown(), true);
    const noPod = (retryAfter: string) => (err: unknown) => err instanceof ApiError && err.status === 503 && err.code === 'no_pod_available' && err.headers['retry-after'] === retryAfter;
    await assert.rejects(s.admit(ticket()), noPod('1'));
    clock.advance(999);
    await assert.rejects(s.admit(ticket()), noPod('1'), '1 ms left rounds up to a second');
    clock.advance(1);
    assert.equal(s.isDown(), false, 'the first pod is half-open');
    assert.equal((await s.admit(ticket())).pod, pods[0]);
  });

  it('re-admits a failed request on another pod ahead of the queue, and gives up when every pod was tried', async () => {
    const pods = makePods(2);
    const s = scheduler(pods, { maxInFlightPerPod: 1 });
    const first = await s.admit(ticket({ id: 'x' }));
    const other = await s.admit(ticket());
    const order: string[] = [];
    const queued = track(s, order, ticket({ id: 'queued' }));
    await tick();
    // `first` failed on its pod: it goes to the other pod as soon as that has room, before `queued`.
    const retry = first.retry();
    other.release();
    const second = await retry;
    assert.notEqual(second.pod, first.pod);
    assert.equal(second.attempt, 1);
    await tick();
    assert.deepEqual(order, ['queued'], 'the queued request took the slot the retry freed');
    await assert.rejects(second.retry(), NoRetryTarget);
    assert.equal(second.pod.prefillsSince.size, 0, "a retried lease leaves its pod's pending prefills");
    (await queued).release();
    assert.equal(first.pod.prefillsSince.size, 0);
  });

  it('sends nothing new to a pod whose oldest prefill is overdue, whatever the estimate says', async () => {
    const clock = new ManualClock();
    const pods = makePods(2);
    const s = scheduler(pods, { prefillStallMs: 40, prefillBudgetTokens: 100_000 }, 'round-robin', clock);
    const slow = await s.admit(ticket({ promptTokens: 100 }));
    const other = await s.admit(ticket({ promptTokens: 100 }));
    assert.notEqual(slow.pod, other.pod);
    other.firstToken();
    clock.advance(40);
    const onTime = await s.admit(ticket({ promptTokens: 10 }));
    assert.equal(onTime.pod, slow.pod, 'exactly 40 ms is not overdue yet');
    onTime.release();
    clock.advance(1);
    // The estimate (100 tokens pending) would admit more on slow.pod; its clock says it is behind.
    const next = [await s.admit(ticket({ promptTokens: 10 })), await s.admit(ticket({ promptTokens: 10 }))];
    assert.ok(next.every((l) => l.pod === other.pod), 'new requests avoid the stalled pod');
    for (const l of next) l.firstToken();
    other.release();
    for (const l of next) l.release();
    // Only the stalled pod left: requests wait in the gateway until its first token arrives.
    pods[1 - pods.indexOf(slow.pod)].state = 'dead';
    const order: string[] = [];
    const waiting = track(s, order, ticket({ id: 'w', promptTokens: 10 }));
    await tick();
    assert.deepEqual(order, []);
    slow.firstToken();
    assert.equal((await waiting).pod, slow.pod);
    // A non-streamed generation's prefill end is only estimated: it never marks its pod stalled.
    const pending = slow.pod.prefillsSince.size;
    const json = await s.admit(ticket({ promptTokens: 10, prefillEnd: 'estimate' }));
    assert.equal(json.pod, slow.pod);
    assert.equal(json.pod.prefillsSince.size, pending);
  });

  it('gives a half-open pod a single trial request at a time', async () => {
    const clock = new ManualClock();
    const pods = makePods(1);
    pods[0].breaker.recordFailure('connect', clock.wallNow()); // ejected for 2 s
    const s = scheduler(pods, {}, 'least-load', clock);
    clock.advance(2_000); // half-open now
    const trial = await s.admit(ticket({ promptTokens: 10 }));
    const order: string[] = [];
    const next = track(s, order, ticket({ id: 'next', promptTokens: 10 }));
    await tick();
    assert.deepEqual(order, []);
    pods[0].breaker.recordSuccess(clock.wallNow());
    trial.release();
    await next;
    assert.deepEqual(order, ['next']);
  });

  it('holds a pod whose runtime queues beyond our prefills or has its KV cache full, until the scrape is stale', async () => {
    const clock = new ManualClock();
    const pods = makePods(2);
    const s = scheduler(pods, {}, 'round-robin', clock);
    scrape(pods[0], clock.wallNow(), { running: 30, waiting: 5, kvUsage: 0.5 });
    scrape(pods[1], clock.wallNow(), { running: 30, waiting: 0, kvUsage: 0.95 });
    assert.equal(s.isSaturated(), true);
    scrape(pods[1], clock.wallNow(), { running: 30, waiting: 0, kvUsage: 0.5 });
    const lease = await s.admit(ticket({ promptTokens: 10 }));
    assert.equal(lease.pod, pods[1]);
    clock.advance(SETTINGS.staleAfterMs);
    assert.notEqual((await s.admit(ticket({ promptTokens: 10 }))).pod, pods[0], 'a scrape exactly staleAfterMs old still counts');
    clock.advance(1);
    assert.equal((await s.admit(ticket({ promptTokens: 10 }))).pod, pods[0], 'an older one no longer holds the pod');
  });

  it('counts other replicas\' requests (scraped minus ours) against the concurrency budget', async () => {
    const clock = new ManualClock();
    const pods = makePods(1);
    const s = scheduler(pods, { maxInFlightPerPod: 10 }, 'least-load', clock);
    scrape(pods[0], clock.wallNow(), { running: 10, kvUsage: 0.1 });
    assert.equal(pods[0].foreignLoad(clock.wallNow(), 3_000), 10);
    assert.equal(s.isSaturated(), true);
    clock.advance(3_001);
    assert.equal(s.isSaturated(), false, 'a stale scrape says nothing about other replicas');
  });

  it('routes a conversation back to the pod that holds its prefix (prefix-load)', async () => {
    const pods = makePods(4);
    const s = scheduler(pods, {}, 'prefix-load');
    const settings = { blockChars: 64, maxBlocks: 256 };
    const history = [{ role: 'system', content: 'S'.repeat(2000) }, { role: 'user', content: 'U'.repeat(2000) }];
    const first = await s.admit(ticket({ promptTokens: 1000, prefix: prefixKey('chat.completions', { messages: history }, settings) }));
    first.firstToken();
    // Load the other pods equally, then send the next turn.
    const others = [];
    for (let i = 0; i < 3; i++) others.push(await s.admit(ticket({ promptTokens: 10 })));
    const next = [...history, { role: 'assistant', content: 'A'.repeat(200) }, { role: 'user', content: 'more' }];
    const second = await s.admit(ticket({ promptTokens: 1100, prefix: prefixKey('chat.completions', { messages: next }, settings) }));
    assert.equal(second.pod, first.pod);
    assert.ok(second.matchedTokens > 900, `matched ${second.matchedTokens}`);
    assert.ok(second.uncachedTokens < 200);
  });
  it('learns from the runtimes\' cached_tokens how much of a table match to count in the prefill budget', async () => {
    const pods = makePods(1);
    const s = scheduler(pods, { prefillBudgetTokens: 100_000 }, 'prefix-load');
    const settings = { blockChars: 64, maxBlocks: 256 };
    const prompt = (turn: number) => prefixKey('chat.completions', { messages: [{ role: 'user', content: 'D'.repeat(4000) + `turn ${turn}` }] }, settings);
    const turn = async (n: number, cached: number) => {
      const lease = await s.admit(ticket({ promptTokens: 1000, prefix: prompt(n) }));
      const uncached = lease.uncachedTokens;
      lease.firstToken();
      lease.release(cached);
      return { matched: lease.matchedTokens, uncached };
    };
    await turn(0, 0); // nothing matched yet: nothing to learn
    const trusted = await turn(1, 990);
    assert.ok(trusted.matched > 900 && trusted.uncached < 100, `a confirmed match counts fully: ${JSON.stringify(trusted)}`);
    assert.ok(s.hitRatio > 0.95, `ratio ${s.hitRatio}`);
    // The pod keeps evicting what the table believes it holds: the runtime reports no hit, again and again.
    for (let i = 2; i < 60; i++) await turn(i, 0);
    assert.ok(s.hitRatio < 0.2, `ratio ${s.hitRatio}`);
    const doubted = await turn(60, 0);
    assert.ok(doubted.matched > 900, 'the table still claims the prefix');
    assert.ok(doubted.uncached > 800, `but the budget counts most of the prompt as prefill: ${doubted.uncached}`);
    // A release without usage (client gone, upstream cut) teaches nothing.
    const before = s.hitRatio;
    const lease = await s.admit(ticket({ promptTokens: 1000, prefix: prompt(61) }));
    lease.release();
    assert.equal(s.hitRatio, before);
  });

  it('scores pods by the raw table match even when the budget discounts it', async () => {
    const pods = makePods(2);
    const s = scheduler(pods, { prefillBudgetTokens: 100_000 }, 'prefix-load');
    const settings = { blockChars: 64, maxBlocks: 256 };
    const history = [{ role: 'user', content: 'H'.repeat(4000) }];
    const first = await s.admit(ticket({ promptTokens: 1000, prefix: prefixKey('chat.completions', { messages: history }, settings) }));
    first.firstToken();
    first.release();
    for (let i = 0; i < 200; i++) s.observeCacheHit(1000, 0); // the pods keep evicting
    assert.ok(s.hitRatio < 0.15, `ratio ${s.hitRatio}`);
    // The holder is busier by ~700 prompt tokens: less than the ~1000-token prefix saves (×3), more than
    // the discounted saving would be.
    const holder = first.pod;
    holder.prefilling++;
    holder.prefillTokens += 700;
    const next = [...history, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'and then?' }];
    const second = await s.admit(ticket({ promptTokens: 1010, prefix: prefixKey('chat.completions', { messages: next }, settings) }));
    assert.equal(second.pod, holder, 'the conversation goes back to the pod that was sent its prefix');
    assert.ok(second.uncachedTokens > 800, `while its budget counts most of the prompt: ${second.uncachedTokens}`);
  });

  it('sizes its prefix-affinity table to the pods\' KV caches', () => {
    const pods = makePods(2);
    const s = scheduler(pods, { affinityEntries: 1_000_000, prefixBlockChars: 64 });
    s.refresh(); // no scrape yet: the configured bound stays
    assert.equal(s.affinity.capacity, 1_000_000);
    for (const pod of pods) scrape(pod, 0, { kvCapacityTokens: 80_000 });
    s.refresh();
    // 2 × 160k tokens of cache, 64-character blocks at ~4 characters per token = 16 tokens per block.
    assert.equal(s.affinity.capacity, 20_000);
  });
});
