import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from 'pino';
import { ApiError } from '../errors/api-error.js';
import { ErrorCode } from '../errors/error-codes.js';
import { MetricsService } from '../observability/metrics.service.js';
import { RequestFinalizer, type RequestRecord } from './request-finalizer.js';

function setup() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = { info: (fields: Record<string, unknown>) => lines.push(fields), warn: () => undefined } as unknown as Logger;
  const metrics = new MetricsService();
  const counted = async (name: 'requests' | 'errors') => (await metrics[name].get()).values.map((v) => ({ labels: v.labels as Record<string, unknown>, value: v.value }));
  return { finalizer: new RequestFinalizer(metrics, logger), lines, counted };
}

const record = (over: Partial<RequestRecord>): RequestRecord => ({ requestId: 'req_1', endpoint: 'chat.completions', startedAt: performance.now(), stream: true, status: 200, clientGone: false, ...over });

describe('request finalizer', () => {
  it('records a client that left as 499 client_closed_request in the access log and the metrics', async () => {
    const t = setup();
    // Before the first byte (the pipeline caught the abort) and mid-stream (the relay saw the client go).
    t.finalizer.finish(record({ clientGone: true, status: 499, stream: false }));
    t.finalizer.finish(record({ clientGone: true, status: 200, outputChunks: 3 }));
    for (const line of t.lines) assert.deepEqual([line.status, line.error], [499, 'client_closed_request']);
    assert.deepEqual(await t.counted('requests'), [{ labels: { model: 'unknown', endpoint: 'chat.completions', status: 499 }, value: 2 }]);
    assert.deepEqual(await t.counted('errors'), [{ labels: { model: 'unknown', type: 'invalid_request_error', code: 'client_closed_request' }, value: 2 }]);
  });

  it('records an upstream failure under its own code, and a complete response without one', async () => {
    const t = setup();
    const failed = new ApiError(ErrorCode.UpstreamStreamInterrupted, 'cut');
    t.finalizer.finish(record({ error: failed }));
    t.finalizer.finish(record({}));
    assert.deepEqual(t.lines.map((l) => [l.status, l.error]), [[200, 'upstream_stream_interrupted'], [200, undefined]]);
    assert.deepEqual((await t.counted('errors')).map((v) => v.labels.code), ['upstream_stream_interrupted']);
  });
});
