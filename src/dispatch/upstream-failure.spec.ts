import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyUpstreamError } from './upstream-failure.js';

const err = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('upstream failure codes', () => {
  it('gives a client that went away its own code (499, never the upstream’s fault), and does not retry it', () => {
    for (const cause of [Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }), err('UND_ERR_ABORTED')]) {
      const failure = classifyUpstreamError(cause, 'connect');
      assert.equal(failure.code, 'aborted');
      assert.equal(failure.retryable, false);
      assert.deepEqual([failure.apiError.status, failure.apiError.code], [499, 'client_closed_request']);
    }
  });

  it('keeps a stable code for each way the pod fails', () => {
    const cases: Array<[unknown, 'connect' | 'body', string, number, string]> = [
      [err('ECONNREFUSED'), 'connect', 'connect_failed', 502, 'upstream_connect_failed'],
      [err('UND_ERR_HEADERS_TIMEOUT'), 'connect', 'headers_timeout', 504, 'upstream_timeout'],
      [err('UND_ERR_BODY_TIMEOUT'), 'body', 'body_timeout', 504, 'upstream_timeout'],
      [err('UND_ERR_SOCKET', 'other side closed'), 'body', 'stream_cut', 502, 'upstream_stream_interrupted'],
    ];
    for (const [cause, phase, code, status, apiCode] of cases) {
      const failure = classifyUpstreamError(cause, phase);
      assert.deepEqual([failure.code, failure.retryable, failure.apiError.status, failure.apiError.code], [code, true, status, apiCode]);
    }
  });
});
