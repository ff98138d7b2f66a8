import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { CredentialRepository } from './credential.repository.js';
import { KeyUsageRecorder } from './key-usage.recorder.js';

function setup(fail = false) {
  const writes: Array<ReadonlyArray<readonly [string, number]>> = [];
  const repository = {
    async recordLastUsed(entries: ReadonlyArray<readonly [string, number]>) {
      if (fail) throw new Error('database down');
      writes.push(entries);
    },
  } as unknown as CredentialRepository;
  return { recorder: new KeyUsageRecorder(repository, pino({ level: 'silent' })), writes };
}

describe('KeyUsageRecorder', () => {
  it('writes every touched key once per flush, with its latest time, in one batch', async () => {
    const { recorder, writes } = setup();
    recorder.touch('k1', 1000);
    recorder.touch('k2', 1500);
    recorder.touch('k1', 2000);
    assert.equal(writes.length, 0);
    assert.equal(await recorder.flush(), 2);
    assert.deepEqual(writes, [[['k1', 2000], ['k2', 1500]]]);
    assert.equal(await recorder.flush(), 0);
    assert.equal(writes.length, 1);
  });

  it('keeps the times for the next flush when the write fails', async () => {
    const { recorder } = setup(true);
    recorder.touch('k1', 1000);
    assert.equal(await recorder.flush(), 0);
    assert.equal(recorder.pendingCount, 1);
  });
});
