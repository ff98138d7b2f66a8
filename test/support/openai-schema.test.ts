/** The suites' schema checks come from the committed extract, and still catch a malformed body. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertMatchesSchema } from './openai-schema.js';

describe('OpenAI response schemas', () => {
  it('accepts a well-formed body and rejects a malformed one', () => {
    assertMatchesSchema('ErrorResponse', { error: { message: 'm', type: 'invalid_request_error', param: null, code: 'invalid_value' } });
    assert.throws(() => assertMatchesSchema('ErrorResponse', { error: { type: 'invalid_request_error' } }), /does not match ErrorResponse/);
    const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] };
    assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
    assert.throws(() => assertMatchesSchema('CreateChatCompletionStreamResponse', { ...chunk, created: 'yesterday' }), /created/);
  });

  it('names the generator when asked for a schema that was not extracted', () => {
    assert.throws(() => assertMatchesSchema('CreateImageRequest', {}), /gen-openai-schemas/);
  });
});
