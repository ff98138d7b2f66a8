import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseSimArgs } from './config.js';
import { FaultHeaderError, FaultInjector, type FaultFlags } from './faults.js';

const NONE: FaultFlags = { errorRate: 0, errorStatus: 500, stallMs: 0, stallAfterTokens: 1, slowStartMs: 0 };

describe('FaultInjector', () => {
  it('has no faults without flags or header', () => {
    assert.deepEqual(new FaultInjector(NONE, 0).forRequest(undefined), { stallMs: 0, delayMs: 0 });
  });

  it('parses the x-sim-fault header', () => {
    const f = new FaultInjector(NONE, 0);
    assert.equal(f.forRequest('error=503').errorStatus, 503);
    assert.equal(f.forRequest('crash-after=5').crashAfterTokens, 5);
    assert.deepEqual(f.forRequest('stall-after=3,stall-ms=2000'), { errorAfterTokens: undefined, crashAfterTokens: undefined, stallAfterTokens: 3, stallMs: 2000, delayMs: 0 });
    assert.equal(f.forRequest(' delay-ms = 100 ').delayMs, 100);
    assert.equal(f.forRequest('error-after=4').errorAfterTokens, 4);
    assert.throws(() => f.forRequest('explode=1'), FaultHeaderError);
    assert.throws(() => f.forRequest('error=abc'), FaultHeaderError);
    assert.throws(() => f.forRequest('error=200'), FaultHeaderError);
  });

  it('applies the flag error rate deterministically for a seed, and the header overrides the flags', () => {
    const flags = { ...NONE, errorRate: 0.3, errorStatus: 429, crashAfterTokens: 7 };
    const draw = (seed: number) => {
      const f = new FaultInjector(flags, seed);
      return Array.from({ length: 200 }, () => f.forRequest(undefined).errorStatus ?? 0);
    };
    const a = new FaultInjector(flags, 1);
    const errors = Array.from({ length: 1000 }, () => a.forRequest(undefined).errorStatus).filter((s) => s === 429).length;
    assert.ok(errors > 230 && errors < 370, `${errors} errors in 1000 at rate 0.3`);
    assert.deepEqual(draw(5), draw(5));
    assert.notDeepEqual(draw(5), draw(6));
    assert.equal(new FaultInjector(flags, 0).forRequest('crash-after=2').crashAfterTokens, 2);
    const none = new FaultInjector({ ...flags, errorRate: 1 }, 0).forRequest('none');
    assert.equal(none.errorStatus, undefined);
    assert.equal(none.crashAfterTokens, undefined);
  });
});

describe('parseSimArgs', () => {
  it('applies profile defaults and vLLM-named overrides', () => {
    const c = parseSimArgs(['--model', 'Qwen/Qwen3-32B', '--profile', 'qwen3-32b-tp2-h100']);
    assert.equal(c.tokenizer, 'qwen3');
    assert.equal(c.maxModelLen, 40_960);
    assert.equal(c.maxNumSeqs, 1024);
    assert.equal(c.maxNumBatchedTokens, 8192);
    assert.equal(c.kvCapacityTokens, 307_328);
    const z = parseSimArgs(['--model', 'm', '--profile', 'zero', '--max-model-len', '4096', '--fault-error-rate', '0.5', '--fault-error-status', '503']);
    assert.equal(z.tokenizer, 'llama3');
    assert.equal(z.maxModelLen, 4096);
    assert.equal(z.frontendOverheadMs, 0);
    assert.equal(z.faults.errorRate, 0.5);
    assert.equal(z.faults.errorStatus, 503);
  });

  it('rejects unknown profiles, bad numbers and a max_model_len the KV pool cannot hold', () => {
    assert.throws(() => parseSimArgs(['--model', 'm', '--profile', 'nope']), ConfigError);
    assert.throws(() => parseSimArgs(['--model', 'm', '--profile', 'zero', '--port', 'x']), ConfigError);
    assert.throws(() => parseSimArgs(['--model', 'm', '--profile', 'zero', '--kv-capacity-tokens', '1024']), /max seq len/);
    assert.throws(() => parseSimArgs(['--model', 'm', '--profile', 'zero', '--max-num-seqs', '64', '--max-num-batched-tokens', '32']), /max_num_seqs/);
    assert.throws(() => parseSimArgs(['--profile', 'zero']), /--model is required/);
  });
});
