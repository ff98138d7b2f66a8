import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FairQueue, type FairItem } from './fair-queue.js';

interface Item extends FairItem {
  id: string;
}

const item = (flow: string, id: string, cost = 1, weight = 1): Item => ({ flow, id, cost, weight });

function drain(q: FairQueue<Item>, n = Infinity): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const x = q.pop();
    if (!x) break;
    out.push(x.id);
  }
  return out;
}

describe('FairQueue (weighted fair queuing between organizations)', () => {
  it('is FIFO within one flow', () => {
    const q = new FairQueue<Item>();
    for (const id of ['a1', 'a2', 'a3']) q.push(item('a', id));
    assert.deepEqual(drain(q), ['a1', 'a2', 'a3']);
    assert.equal(q.size, 0);
  });

  it("serves a light flow's request ahead of a flooding flow's backlog", () => {
    const q = new FairQueue<Item>();
    for (let i = 0; i < 100; i++) q.push(item('flood', `f${i}`));
    q.pop(); // f0 is being served
    q.push(item('light', 'l0'));
    // l0 is tagged from the current virtual time, the flood's next request from its own backlog: l0
    // goes at most one request after the one in service.
    assert.ok(drain(q, 2).includes('l0'));
  });

  it('alternates between equal-weight flows, whatever their backlog', () => {
    const q = new FairQueue<Item>();
    for (let i = 0; i < 10; i++) q.push(item('a', `a${i}`));
    for (let i = 0; i < 3; i++) q.push(item('b', `b${i}`));
    assert.deepEqual(drain(q, 6), ['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
  });

  it('shares in proportion to weight while both flows are backlogged', () => {
    const q = new FairQueue<Item>();
    for (let i = 0; i < 400; i++) {
      q.push(item('premium', `p${i}`, 1, 4));
      q.push(item('free', `f${i}`, 1, 1));
    }
    const first = drain(q, 200);
    const premium = first.filter((id) => id.startsWith('p')).length;
    assert.ok(premium >= 158 && premium <= 162, `premium got ${premium} of 200 (expected 4:1 = 160)`);
  });

  it('charges by cost: a flow of large requests gets fewer of them', () => {
    const q = new FairQueue<Item>();
    for (let i = 0; i < 50; i++) {
      q.push(item('big', `B${i}`, 10));
      q.push(item('small', `s${i}`, 1));
    }
    const first = drain(q, 44);
    const big = first.filter((id) => id.startsWith('B')).length;
    assert.ok(big >= 3 && big <= 5, `big got ${big} of 44 (expected ~4: equal service in cost units)`);
  });

  it('banks no credit for an idle flow', () => {
    const q = new FairQueue<Item>();
    for (let i = 0; i < 20; i++) q.push(item('a', `a${i}`));
    drain(q, 20);
    // b was idle while a was served alone; when both queue now, they alternate (b gets no burst).
    for (let i = 20; i < 26; i++) q.push(item('a', `a${i}`));
    for (let i = 0; i < 6; i++) q.push(item('b', `b${i}`));
    const order = drain(q, 6);
    assert.equal(order.filter((id) => id.startsWith('b')).length, 3, order.join(' '));
  });

  it('skips cancelled items and keeps counts right', () => {
    const q = new FairQueue<Item>();
    const a1 = q.push(item('a', 'a1'));
    q.push(item('a', 'a2'));
    const b1 = q.push(item('b', 'b1'));
    q.push(item('b', 'b2'));
    q.cancel(a1);
    q.cancel(b1);
    q.cancel(b1); // twice is harmless
    assert.equal(q.size, 2);
    assert.equal(q.sizeOf('a'), 1);
    assert.equal(q.sizeOf('b'), 1);
    assert.deepEqual(drain(q).sort(), ['a2', 'b2']);
    assert.equal(q.size, 0);
    assert.equal(q.peek(), undefined);
  });

  it('peek returns what pop returns', () => {
    const q = new FairQueue<Item>();
    for (let i = 0; i < 50; i++) q.push(item(`org${i % 7}`, `x${i}`, 1 + (i % 3), 1 + (i % 2)));
    for (let i = 0; i < 50; i++) {
      const peeked = q.peek();
      assert.equal(q.pop(), peeked);
    }
  });

  it('rejects zero weights and costs', () => {
    const q = new FairQueue<Item>();
    assert.throws(() => q.push(item('a', 'a', 0)));
    assert.throws(() => q.push(item('a', 'a', 1, 0)));
  });
});
