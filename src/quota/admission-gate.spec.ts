import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock/manual-clock.js';
import type { AppConfig, Limits } from '../config/index.js';
import { ApiError } from '../errors/api-error.js';
import { MetricsService } from '../observability/metrics.service.js';
import type { Principal } from '../tenancy/index.js';
import { AdmissionGate } from './admission-gate.js';
import type { LimitPolicyService } from './limit-policy.service.js';
import { NO_LIMITS } from './limits.js';

const principal = (keyId = 'k1'): Principal => ({ orgId: 'o1', keyId, keyPrefix: `sk-sy-${keyId}`, tier: 'standard', scopes: new Set(), allowedModels: null });

function setup(org: Partial<Limits>, key: Partial<Limits> = {}) {
  const clock = new ManualClock();
  const policies = { limitsFor: () => ({ org: { ...NO_LIMITS, ...org }, key: { ...NO_LIMITS, ...key } }) } as unknown as LimitPolicyService;
  const gate = new AdmissionGate(policies, new MetricsService(), { bodyLimitBytes: 1_000 } as AppConfig, clock);
  return { clock, gate };
}

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return err;
  }
  return assert.fail('expected a refusal');
}

describe('admission gate', () => {
  it('admits a burst of rpm requests, then one more per 60/rpm seconds, with retry-after until then', () => {
    const { clock, gate } = setup({ rpm: 6 });
    for (let i = 0; i < 6; i++) gate.admit(principal(), 10).release();
    const err = refusal(() => gate.admit(principal(), 10));
    assert.deepEqual([err.status, err.code, err.headers['retry-after'], err.headers['retry-after-ms']], [429, 'rate_limit_exceeded', '10', '10000']);
    clock.advance(9_999);
    refusal(() => gate.admit(principal(), 10));
    clock.advance(1);
    gate.admit(principal(), 10);
    refusal(() => gate.admit(principal(), 10));
  });

  it('never refuses what a sliding 60 s window of rpm would admit', () => {
    // Requests at a steady rpm, after any burst has aged out of the window, always pass.
    const { clock, gate } = setup({ rpm: 4 });
    for (let i = 0; i < 4; i++) gate.admit(principal(), 1);
    clock.advance(60_000);
    for (let i = 0; i < 40; i++) {
      gate.admit(principal(), 1);
      clock.advance(15_000);
    }
  });

  it('bounds body bytes in flight at concurrency × the body limit, per organization and per key, until released', () => {
    const { gate } = setup({ concurrency: 2 }, { concurrency: 1 });
    const first = gate.admit(principal('k1'), 900);
    // The key's own bound (1 × 1,000) is reached before the organization's (2,000).
    assert.match(refusal(() => gate.admit(principal('k1'), 200)).message, /key sk-sy-k1: 900 bytes .* adds 200 \(limit 1000\)/);
    const other = gate.admit(principal('k2'), 1_000);
    assert.match(refusal(() => gate.admit(principal('k3'), 101)).message, /organization o1: 1900 bytes/);
    first.release();
    first.release(); // idempotent
    gate.admit(principal('k3'), 1_000);
    other.release();
  });

  it('leaves nothing charged when one scope refuses', () => {
    const { gate } = setup({ rpm: 2 }, { concurrency: 1 });
    const held = gate.admit(principal(), 1_000);
    refusal(() => gate.admit(principal(), 1));
    held.release();
    gate.admit(principal(), 1); // the organization's second request: the refused one took no token
    refusal(() => gate.admit(principal(), 1));
  });
});
