import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../errors/error-codes.js';
import { TrtllmAdapter } from './trtllm.adapter.js';

const trtllm = new TrtllmAdapter();

describe('TrtllmAdapter', () => {
  it("uses trtllm-serve's paths, /health, and Prometheus before the JSON iteration stats", () => {
    assert.equal(trtllm.path('chat.completions'), '/v1/chat/completions');
    assert.equal(trtllm.path('completions'), '/v1/completions');
    assert.equal(trtllm.healthPath, '/health');
    assert.deepEqual(
      trtllm.metricsSources.map((s) => s.path),
      ['/prometheus/metrics', '/metrics'],
    );
  });

  it('drops the OpenAI fields trtllm-serve would refuse and that do not shape the output, and keeps the rest', () => {
    const body = trtllm.upstreamBody(
      'chat.completions',
      { model: 'alias', messages: [], service_tier: 'flex', store: false, metadata: { a: 'b' }, prompt_cache_key: 'k', safety_identifier: 'u', user: 'u1', top_k: 5 },
      'served',
    );
    assert.deepEqual(body, { model: 'served', messages: [], user: 'u1', top_k: 5 });
  });

  it('sends the organization cache_salt with chat requests only (its CompletionRequest forbids the field)', () => {
    assert.equal(trtllm.upstreamBody('chat.completions', { model: 'a', cache_salt: 'client' }, 's', 'org-salt').cache_salt, 'org-salt');
    assert.equal('cache_salt' in trtllm.upstreamBody('completions', { model: 'a', prompt: 'x', cache_salt: 'client' }, 's', 'org-salt'), false);
  });

  it('sends stream_options only with stream: true, with usage forced on', () => {
    assert.deepEqual(trtllm.upstreamBody('chat.completions', { model: 'a', stream: true }, 's').stream_options, { include_usage: true });
    assert.deepEqual(trtllm.upstreamBody('completions', { model: 'a', stream: true, stream_options: { include_usage: false } }, 's').stream_options, { include_usage: true });
    assert.equal('stream_options' in trtllm.upstreamBody('chat.completions', { model: 'a', stream: false, stream_options: { include_usage: true } }, 's'), false);
  });

  it("reads trtllm-serve's flat ErrorResponse, its string validation errors and FastAPI's detail", () => {
    const flat = trtllm.translateError(400, { object: 'error', message: 'temperature must be positive', type: 'BadRequestError', param: 'temperature', code: 400 });
    assert.equal(flat.code, ErrorCode.InvalidRequest);
    assert.equal(flat.message, 'temperature must be positive');
    assert.equal(flat.param, 'temperature');
    const validation = trtllm.translateError(400, { error: "1 validation error for ChatCompletionRequest\nmessages\n  Field required [type=missing, input_value={'model': 'x'}]" });
    assert.equal(validation.code, ErrorCode.InvalidRequest);
    assert.match(validation.message, /validation error/);
    assert.equal(trtllm.translateError(400, { detail: 'Not Found' }).message, 'Not Found');
    assert.equal(trtllm.translateError(400, { message: 'raw text from a non-JSON body' }).message, 'raw text from a non-JSON body');
  });

  it('recognises its context-length wording', () => {
    const tensorrtBackend = trtllm.translateError(400, {
      object: 'error',
      message: 'The sum of prompt length (4000) and query length (0) max_tokens (2048) should not exceed max_seq_len (4096)',
      type: 'BadRequestError',
      code: 400,
    });
    assert.equal(tensorrtBackend.code, ErrorCode.ContextLengthExceeded);
    assert.equal(tensorrtBackend.status, 400);
    assert.equal(trtllm.translateError(400, { object: 'error', message: 'Prompt length 9000 exceeds maximum input length 8192', code: 400 }).code, ErrorCode.ContextLengthExceeded);
  });

  it('turns 503 (executor unavailable) into a retryable 503 and other failures into upstream_error', () => {
    const busy = trtllm.translateError(503, 'LLM is unavailable. Please check the server logs for more details.');
    assert.equal(busy.code, ErrorCode.UpstreamUnavailable);
    assert.equal(busy.headers['retry-after'], '1');
    assert.equal(trtllm.translateError(500, { message: 'Internal Server Error' }).code, ErrorCode.UpstreamError);
    assert.equal(trtllm.translateError(404, { detail: 'Not Found' }).code, ErrorCode.UpstreamError);
  });

  it('recognises error events in a stream, and does not forward fault injection', () => {
    assert.equal(trtllm.isStreamError({ object: 'error', message: 'x', code: 500 }), true);
    assert.equal(trtllm.isStreamError({ object: 'chat.completion.chunk', choices: [] }), false);
    assert.deepEqual(trtllm.upstreamHeaders({ requestId: 'r', faultInjection: 'x' }), { 'content-type': 'application/json', 'x-request-id': 'r' });
  });
});
