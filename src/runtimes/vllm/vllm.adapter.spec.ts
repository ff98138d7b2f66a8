import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../errors/error-codes.js';
import { adapterFor } from '../adapters.js';
import { SimAdapter } from '../sim/sim.adapter.js';
import { VllmAdapter } from './vllm.adapter.js';

const vllm = new VllmAdapter();

describe('VllmAdapter', () => {
  it("sends each endpoint to vLLM's OpenAI path, health to /health and metrics to /metrics", () => {
    assert.equal(vllm.path('chat.completions'), '/v1/chat/completions');
    assert.equal(vllm.path('completions'), '/v1/completions');
    assert.equal(vllm.path('embeddings'), '/v1/embeddings');
    assert.equal(vllm.healthPath, '/health');
    assert.deepEqual(
      vllm.metricsSources.map((s) => s.path),
      ['/metrics'],
    );
  });

  it('sends the served model name and always asks a stream for its usage, keeping the other stream options', () => {
    const body = vllm.upstreamBody('chat.completions', { model: 'alias', stream: true, stream_options: { continuous_usage_stats: false }, service_tier: 'flex' }, 'org/Served');
    assert.deepEqual(body, { model: 'org/Served', stream: true, stream_options: { continuous_usage_stats: false, include_usage: true }, service_tier: 'flex' });
    assert.deepEqual(vllm.upstreamBody('completions', { model: 'a', prompt: 'x' }, 's'), { model: 's', prompt: 'x' });
    assert.deepEqual(vllm.upstreamBody('embeddings', { model: 'a', input: 'x', stream: true }, 's'), { model: 's', input: 'x', stream: true });
  });

  it("sends the routing stage's cache_salt in place of the client's, on generation requests only", () => {
    assert.equal(vllm.upstreamBody('chat.completions', { model: 'a', cache_salt: 'client' }, 's', 'org-salt').cache_salt, 'org-salt');
    assert.equal(vllm.upstreamBody('completions', { model: 'a', prompt: 'x' }, 's', 'org-salt').cache_salt, 'org-salt');
    assert.equal('cache_salt' in vllm.upstreamBody('chat.completions', { model: 'a', cache_salt: 'client' }, 's'), false);
    assert.equal('cache_salt' in vllm.upstreamBody('embeddings', { model: 'a', input: 'x' }, 's', 'org-salt'), false);
  });

  it('reads nested (≥ 0.10.1) and flat (older) error bodies; context overflows become context_length_exceeded', () => {
    const nested = vllm.translateError(400, { error: { message: 'bad top_p', type: 'BadRequestError', param: 'top_p', code: 400 } });
    assert.equal(nested.code, ErrorCode.InvalidRequest);
    assert.equal(nested.status, 400);
    assert.equal(nested.message, 'bad top_p');
    assert.equal(nested.param, 'top_p');
    const flat = vllm.translateError(400, { object: 'error', message: "This model's maximum context length is 4096 tokens.", type: 'BadRequestError', param: null, code: 400 });
    assert.equal(flat.code, ErrorCode.ContextLengthExceeded);
    assert.equal(flat.param, null);
    assert.equal(vllm.translateError(422, 'not an object').message, 'upstream returned HTTP 422');
  });

  it('turns a busy runtime into a retryable 503 and hides server errors behind upstream_error', () => {
    for (const status of [429, 503]) {
      const busy = vllm.translateError(status, { error: { message: 'queue full' } });
      assert.equal(busy.code, ErrorCode.UpstreamUnavailable);
      assert.equal(busy.status, 503);
      assert.equal(busy.headers['retry-after'], '1');
    }
    for (const status of [404, 500]) {
      const failed = vllm.translateError(status, { error: { message: 'Traceback: secret internals' } });
      assert.equal(failed.code, ErrorCode.UpstreamError);
      assert.doesNotMatch(failed.message, /secret/);
    }
  });

  it('recognises error events in a stream, not chunks', () => {
    assert.equal(vllm.isStreamError({ error: { message: 'x', code: 500 } }), true);
    assert.equal(vllm.isStreamError({ object: 'error', message: 'x' }), true);
    assert.equal(vllm.isStreamError({ object: 'chat.completion.chunk', choices: [] }), false);
    assert.equal(vllm.isStreamError({ object: 'chat.completion.chunk', error: null }), false);
  });

  it('sends the request id, and the fault-injection header only to the simulator', () => {
    assert.deepEqual(vllm.upstreamHeaders({ requestId: 'r1', faultInjection: 'error-rate=1' }), { 'content-type': 'application/json', 'x-request-id': 'r1' });
    const sim = new SimAdapter();
    assert.equal(sim.upstreamHeaders({ requestId: 'r1', faultInjection: 'error-rate=1' })['x-sim-fault'], 'error-rate=1');
    assert.equal(sim.upstreamHeaders({ requestId: 'r1' })['x-sim-fault'], undefined);
  });
});

describe('adapterFor', () => {
  it('gives each runtime kind its own adapter: the simulator speaks vLLM, TensorRT-LLM does not', () => {
    assert.equal(adapterFor('vllm').kind, 'vllm');
    assert.equal(adapterFor('sim').kind, 'sim');
    assert.ok(adapterFor('sim') instanceof VllmAdapter);
    assert.equal(adapterFor('trtllm').kind, 'trtllm');
    assert.ok(!(adapterFor('trtllm') instanceof VllmAdapter));
  });
});
