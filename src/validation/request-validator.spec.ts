import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors/api-error.js';
import { RequestValidator, toParam } from './request-validator.js';

const validator = new RequestValidator();
const chat = (extra: Record<string, unknown>) => JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });

function rejects(raw: string, code: string, param: string | null, endpoint: 'chat.completions' | 'completions' | 'embeddings' = 'chat.completions') {
  assert.throws(
    () => validator.parse(endpoint, raw),
    (err: unknown) => err instanceof ApiError && err.status === 400 && err.code === code && err.param === param,
    `${raw.slice(0, 80)} → ${code} ${param}`,
  );
}

describe('request validation', () => {
  it('turns JSON pointers into OpenAI param paths', () => {
    assert.equal(toParam('/messages/2/content'), 'messages[2].content');
    assert.equal(toParam('', 'model'), 'model');
    assert.equal(toParam('/tools/0/function', 'name'), 'tools[0].function.name');
  });

  it('accepts valid requests and passes unknown fields through', () => {
    const body = validator.parse('chat.completions', chat({ temperature: 0.5, stop: ['a', 'b'], top_k: 5 }));
    assert.equal(body.top_k, 5);
    validator.parse('completions', JSON.stringify({ model: 'm', prompt: [1, 2, 3] }));
    validator.parse('embeddings', JSON.stringify({ model: 'm', input: ['a', 'b'] }));
  });

  it('rejects each malformed field with its param', () => {
    rejects('{"model":', 'invalid_json', null);
    rejects('[]', 'invalid_request_error', null);
    rejects(JSON.stringify({ messages: [] }), 'missing_required_parameter', 'model');
    rejects(chat({ temperature: 2.5 }), 'invalid_value', 'temperature');
    rejects(chat({ top_p: -1 }), 'invalid_value', 'top_p');
    rejects(chat({ n: 0 }), 'invalid_value', 'n');
    rejects(chat({ max_tokens: 0 }), 'invalid_value', 'max_tokens');
    rejects(chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), 'invalid_value', 'stop');
    rejects(chat({ messages: [{ role: 'wizard', content: 'x' }] }), 'invalid_value', 'messages[0].role');
    rejects(chat({ messages: [{ content: 'x' }] }), 'missing_required_parameter', 'messages[0].role');
    rejects(chat({ stream_options: { include_usage: true } }), 'invalid_value', 'stream_options');
    rejects(chat({ top_logprobs: 3 }), 'invalid_value', 'top_logprobs');
    rejects(chat({ tools: [{ type: 'function', function: { name: 'bad name!' } }] }), 'invalid_value', 'tools[0].function.name');
    rejects(JSON.stringify({ model: 'm', input: 5 }), 'invalid_value', 'input', 'embeddings');
  });
});
