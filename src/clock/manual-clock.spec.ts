import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('stands still until advanced, and moves both readings together', () => {
    const clock = new ManualClock({ now: 100, wallNow: 1_000_000 });
    assert.equal(clock.now(), 100);
    clock.advance(250);
    assert.equal(clock.now(), 350);
    assert.equal(clock.wallNow(), 1_000_250);
  });

  it('fires due timers in due-time order, ties in arming order, each at its own due time', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${clock.now()}`);
    clock.setTimeout(at('c'), 30);
    clock.setTimeout(at('a'), 10);
    clock.setTimeout(at('b1'), 20);
    clock.setTimeout(at('b2'), 20);
    clock.setTimeout(at('late'), 31);
    clock.advance(30);
    assert.deepEqual(fired, ['a@10', 'b1@20', 'b2@20', 'c@30']);
    assert.equal(clock.pendingTimers, 1);
    clock.advance(1);
    assert.deepEqual(fired.at(-1), 'late@31');
  });

  it('fires timers armed by a firing timer within the same advance, and never a cleared one', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const cleared = clock.setTimeout(() => fired.push(-1), 5);
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 10);
      clock.clearTimeout(cleared);
    }, 2);
    clock.advance(20);
    assert.deepEqual(fired, [2, 12]);
    assert.equal(clock.now(), 20);
    assert.equal(clock.pendingTimers, 0);
  });

  it('fires a zero or negative delay at the next advance, even advance(0)', () => {
    const clock = new ManualClock();
    let fired = 0;
    clock.setTimeout(() => fired++, 0);
    clock.setTimeout(() => fired++, -5);
    assert.equal(fired, 0, 'never synchronously');
    clock.advance(0);
    assert.equal(fired, 2);
  });

  it('refuses to go back in time', () => {
    assert.throws(() => new ManualClock().advance(-1), RangeError);
  });
});
