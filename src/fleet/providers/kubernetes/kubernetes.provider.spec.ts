import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { endpointOf, endpointsOf } from './kubernetes.provider.js';

function pod(name: string, opts: { ip?: string; phase?: string; ready?: boolean; deleting?: boolean } = {}): V1Pod {
  return {
    metadata: { name, ...(opts.deleting ? { deletionTimestamp: new Date() } : {}) },
    status: { podIP: opts.ip, phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

describe('kubernetes pod → fleet endpoint', () => {
  it('puts a Running, Ready pod with an IP in rotation at the runtime port', () => {
    assert.deepEqual(endpointOf(pod('a', { ip: '10.0.0.7' }), 8000), { id: 'a', baseUrl: 'http://10.0.0.7:8000', phase: 'ready' });
    assert.deepEqual(endpointOf(pod('v6', { ip: 'fd00::7' }), 8000)?.baseUrl, 'http://[fd00::7]:8000');
  });

  it('leaves out pods without an IP, not Ready, or not Running', () => {
    assert.equal(endpointOf(pod('a'), 8000), undefined);
    assert.equal(endpointOf(pod('a', { ip: '10.0.0.7', ready: false }), 8000), undefined);
    assert.equal(endpointOf(pod('a', { ip: '10.0.0.7', phase: 'Pending' }), 8000), undefined);
    assert.equal(endpointOf(pod('a', { ip: '10.0.0.7', phase: 'Succeeded' }), 8000), undefined);
  });

  it('reports a terminating pod as draining while it runs, whatever its readiness', () => {
    assert.equal(endpointOf(pod('a', { ip: '10.0.0.7', deleting: true }), 8000)?.phase, 'draining');
    assert.equal(endpointOf(pod('a', { ip: '10.0.0.7', deleting: true, ready: false }), 8000)?.phase, 'draining');
    assert.equal(endpointOf(pod('a', { ip: '10.0.0.7', deleting: true, phase: 'Failed' }), 8000), undefined);
  });

  it('lists endpoints in a stable order so equal pod sets give equal reports', () => {
    const pods = [pod('b', { ip: '10.0.0.2' }), pod('a', { ip: '10.0.0.1' }), pod('c')];
    assert.deepEqual(endpointsOf(pods, 80).map((e) => e.id), ['a', 'b']);
  });
});
