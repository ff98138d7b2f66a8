/**
 * Validation tests built from the spec: for every top-level request field of OpenAI's three request
 * schemas that carries a checkable constraint (range, enum, type), one value that passes and one that
 * fails with status 400, type invalid_request_error, code and the exact param. Then the cross-field
 * rules and limits the schema cannot express.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppConfig } from '../config/index.js';
import { ApiError } from '../errors/api-error.js';
import type { InferenceEndpoint } from '../runtimes/runtime-adapter.js';
import openaiRequests from './openai-requests.json' with { type: 'json' };
import { RequestValidator, toParam } from './request-validator.js';

type Schema = Record<string, any>;
const spec = openaiRequests as unknown as { components: { schemas: Record<string, Schema> } };
const limits: AppConfig['prompt'] = { offloadBytes: 0, workers: 1, maxMessages: 8, maxMessageChars: 1000, maxTools: 2, maxSchemaDepth: 3, imageUrlHosts: ['images.example.com', '*.cdn.example.org'], maxImageUrlBytes: 2048 };
const validator = new RequestValidator({ prompt: limits } as AppConfig);

const BASE: Record<InferenceEndpoint, Record<string, unknown>> = {
  'chat.completions': { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
  completions: { model: 'm', prompt: 'hi' },
  embeddings: { model: 'm', input: 'hi' },
};
const ROOT: Record<InferenceEndpoint, string> = { 'chat.completions': 'CreateChatCompletionRequest', completions: 'CreateCompletionRequest', embeddings: 'CreateEmbeddingRequest' };
/** Fields whose passing value needs a companion field. */
const COMPANIONS: Record<string, Record<string, unknown>> = { top_logprobs: { logprobs: true }, stream_options: { stream: true } };
/** Fields checked by dedicated cases below (structure, not a scalar constraint). */
const SKIP = new Set(['model', 'messages', 'prompt', 'input', 'tools', 'tool_choice', 'functions', 'function_call', 'stream_options']);

function resolve(schema: Schema | undefined): Schema | undefined {
  if (!schema) return undefined;
  if (schema.$ref) return resolve(spec.components.schemas[schema.$ref.split('/').pop()]);
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (branches) {
    const nonNull = branches.filter((b) => b.type !== 'null');
    if (nonNull.length === 1) return resolve(nonNull[0]);
  }
  return schema;
}

function topLevel(name: string): Map<string, Schema> {
  const out = new Map<string, Schema>();
  const collect = (s: Schema | undefined) => {
    if (!s) return;
    if (s.$ref) return collect(spec.components.schemas[s.$ref.split('/').pop()]);
    for (const [k, v] of Object.entries(s.properties ?? {})) out.set(k, v as Schema);
    for (const part of s.allOf ?? []) collect(part);
  };
  collect(spec.components.schemas[name]);
  return out;
}

interface Case {
  field: string;
  pass: unknown;
  fail: unknown;
}

function casesFor(endpoint: InferenceEndpoint): Case[] {
  const cases: Case[] = [];
  for (const [field, raw] of topLevel(ROOT[endpoint])) {
    if (SKIP.has(field)) continue;
    const s = resolve(raw);
    if (!s) continue;
    if ((s.type === 'number' || s.type === 'integer') && (s.minimum !== undefined || s.maximum !== undefined)) {
      // Bounds beyond 2^53 (seed's int64 range) cannot be stepped over in a JSON number.
      const exact = (n: number | undefined) => n !== undefined && Number.isSafeInteger(Math.trunc(n));
      if (exact(s.maximum)) cases.push({ field, pass: s.maximum, fail: s.maximum + 1 });
      if (exact(s.minimum)) cases.push({ field, pass: s.minimum, fail: s.minimum - 1 });
    } else if (Array.isArray(s.enum) && typeof s.enum[0] === 'string') {
      cases.push({ field, pass: s.enum[0], fail: 'no-such-value' });
    } else if (s.type === 'boolean') {
      cases.push({ field, pass: true, fail: 'yes' });
    } else if (s.type === 'integer') {
      cases.push({ field, pass: 1, fail: 1.5 });
    } else if (s.type === 'string' && !s.enum) {
      cases.push({ field, pass: 'x', fail: 42 });
    }
  }
  return cases;
}

function rejects(endpoint: InferenceEndpoint, body: unknown, code: string, param: string | null) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  assert.throws(

    () => validator.parse(endpoint, raw),
    (err: unknown) => {
      assert.ok(err instanceof ApiError, String(err));
      assert.equal(err.status, 400, raw);
      assert.equal(err.type, 'invalid_request_error');
      assert.equal(err.code, code, `${raw.slice(0, 160)}: ${err.message}`);
      assert.equal(err.param, param, `${raw.slice(0, 160)}: ${err.message}`);
      return true;
    },
    `expected ${raw.slice(0, 200)} to be rejected`,
  );
}

describe('request validation from the OpenAI spec', () => {
  for (const endpoint of ['chat.completions', 'completions', 'embeddings'] as const) {
    const cases = casesFor(endpoint);
    it(`${endpoint}: each constrained field has a passing and a failing value (${cases.length} constraints)`, () => {
      assert.ok(cases.length >= (endpoint === 'embeddings' ? 2 : 10), `found ${cases.length} constraints`);
      for (const c of cases) {
        const companions = COMPANIONS[c.field] ?? {};
        validator.parse(endpoint, JSON.stringify({ ...BASE[endpoint], ...companions, [c.field]: c.pass }));
        rejects(endpoint, { ...BASE[endpoint], ...companions, [c.field]: c.fail }, 'invalid_value', c.field);
      }
    });
  }

  it('turns JSON pointers into OpenAI param paths', () => {
    assert.equal(toParam('/messages/2/content'), 'messages[2].content');
    assert.equal(toParam('', 'model'), 'model');
    assert.equal(toParam('/tools/0/function', 'name'), 'tools[0].function.name');
  });

  it('rejects malformed bodies and names nested params', () => {
    const chat = BASE['chat.completions'];
    rejects('chat.completions', '{"model":', 'invalid_json', null);
    rejects('chat.completions', '[]', 'invalid_request_error', null);
    rejects('chat.completions', { messages: chat.messages }, 'missing_required_parameter', 'model');
    rejects('chat.completions', { model: 'm' }, 'missing_required_parameter', 'messages');
    rejects('chat.completions', { ...chat, messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 3 }] }, 'invalid_value', 'messages[1].content');
    rejects('chat.completions', { ...chat, messages: [{ role: 'wizard', content: 'x' }] }, 'invalid_value', 'messages[0].role');
    rejects('chat.completions', { ...chat, stop: ['a', 'b', 'c', 'd', 'e'] }, 'invalid_value', 'stop');
    rejects('chat.completions', { ...chat, tools: [{ type: 'function', function: { name: 'f', parameters: 'nope' } }] }, 'invalid_value', 'tools[0].function.parameters');
    rejects('completions', { model: 'm', prompt: { text: 'x' } }, 'invalid_value', 'prompt');
    rejects('embeddings', { model: 'm', input: 5 }, 'invalid_value', 'input');
    rejects('embeddings', { model: 'm', input: 'x', encoding_format: 'hex' }, 'invalid_value', 'encoding_format');
  });

  it('rejects unknown top-level fields but passes vLLM extensions through', () => {
    const chat = BASE['chat.completions'];
    rejects('chat.completions', { ...chat, temprature: 0.5 }, 'unknown_parameter', 'temprature');
    assert.equal(validator.parse('chat.completions', JSON.stringify({ ...chat, top_k: 5, ignore_eos: true })).top_k, 5);
  });

  it('rejects unknown fields at any depth, as OpenAI does, naming the param; keeps the open objects open', () => {
    const chat = BASE['chat.completions'];
    const user = { role: 'user', content: 'hi' };
    rejects('chat.completions', { ...chat, messages: [{ ...user, foo: 1 }] }, 'unknown_parameter', 'messages[0].foo');
    rejects('chat.completions', { ...chat, messages: [user, { role: 'assistant', content: 'x', reasoning_content: 'y' }] }, 'unknown_parameter', 'messages[1].reasoning_content');
    rejects('chat.completions', { ...chat, messages: [{ role: 'user', content: [{ type: 'text', text: 'a', cache_control: {} }] }] }, 'unknown_parameter', 'messages[0].content[0].cache_control');
    rejects(
      'chat.completions',
      { ...chat, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', uuid: 'x' } }] }] },
      'unknown_parameter',
      'messages[0].content[0].image_url.uuid',
    );
    rejects('chat.completions', { ...chat, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true } }, 'unknown_parameter', 'stream_options.continuous_usage_stats');
    rejects('chat.completions', { ...chat, response_format: { type: 'json_object', schema: {} } }, 'unknown_parameter', 'response_format.schema');
    rejects('chat.completions', { ...chat, tools: [{ type: 'function', function: { name: 'f' }, cache_control: {} }] }, 'unknown_parameter', 'tools[0].cache_control');
    rejects('embeddings', { ...BASE.embeddings, extra_body: {} }, 'unknown_parameter', 'extra_body');
    // Declared open: metadata values, logit_bias, a tool's own JSON Schema.
    const tool = { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'string', 'x-anything': 1 } } } } };
    validator.parse('chat.completions', JSON.stringify({ ...chat, metadata: { any: 'thing' }, logit_bias: { '42': 5 }, tools: [tool], store: true }));
    validator.parse('chat.completions', JSON.stringify({ ...chat, messages: [user, { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c', content: 'ok' }] }));
  });

  it('checks every vLLM extension for type and bounds', () => {
    const chat = BASE['chat.completions'];
    const bad: Array<[string, unknown]> = [
      ['top_k', -2], ['top_k', 1.5], ['top_k', 'all'], ['min_p', 1.5], ['min_p', -0.1], ['repetition_penalty', 0], ['repetition_penalty', 2.5],
      ['length_penalty', 11], ['ignore_eos', 'yes'], ['min_tokens', -1], ['stop_token_ids', Array.from({ length: 65 }, (_, i) => i)],
      ['stop_token_ids', 7], ['skip_special_tokens', 1], ['spaces_between_special_tokens', null], ['include_stop_str_in_output', 'no'], ['truncate_prompt_tokens', -2],
      ['truncate_prompt_tokens', 0], ['echo', 'true'], ['add_generation_prompt', 0], ['continue_final_message', {}], ['add_special_tokens', []], ['cache_salt', ''],
      ['cache_salt', 'x'.repeat(257)], ['cache_salt', 5], ['chat_template_kwargs', 'x'], ['chat_template_kwargs', []],
    ];
    for (const [param, value] of bad) rejects('chat.completions', { ...chat, [param]: value }, 'invalid_value', param);
    rejects('chat.completions', { ...chat, stop_token_ids: [1, -2] }, 'invalid_value', 'stop_token_ids[1]');
    rejects('chat.completions', { ...chat, max_tokens: 5, min_tokens: 6 }, 'invalid_value', 'min_tokens');
    const good = {
      top_k: -1, min_p: 0.05, repetition_penalty: 1.1, length_penalty: 1, ignore_eos: true, min_tokens: 2, max_tokens: 5, stop_token_ids: [128009],
      skip_special_tokens: false, spaces_between_special_tokens: true, include_stop_str_in_output: false, truncate_prompt_tokens: -1, echo: false,
      add_generation_prompt: true, continue_final_message: false, add_special_tokens: false, cache_salt: 'user-42', chat_template_kwargs: { enable_thinking: false },
    };
    validator.parse('chat.completions', JSON.stringify({ ...chat, ...good }));
    rejects('completions', { ...BASE.completions, echo: 'yes' }, 'invalid_value', 'echo');
    rejects('embeddings', { ...BASE.embeddings, truncate_prompt_tokens: 1.5 }, 'invalid_value', 'truncate_prompt_tokens');
    validator.parse('embeddings', JSON.stringify({ ...BASE.embeddings, truncate_prompt_tokens: 8, add_special_tokens: true }));
    rejects('embeddings', { ...BASE.embeddings, cache_salt: 'x' }, 'unknown_parameter', 'cache_salt');
  });

  it('accepts only the allow-listed scalar chat_template_kwargs', () => {
    const chat = BASE['chat.completions'];
    validator.parse('chat.completions', JSON.stringify({ ...chat, chat_template_kwargs: { enable_thinking: true, thinking: false, reasoning_effort: 'low' } }));
    for (const key of ['messages', 'tools', 'bos_token', 'chat_template', 'add_generation_prompt']) {
      rejects('chat.completions', { ...chat, chat_template_kwargs: { [key]: 'x' } }, 'unknown_parameter', `chat_template_kwargs.${key}`);
    }
    rejects('chat.completions', { ...chat, chat_template_kwargs: { enable_thinking: { nested: true } } }, 'invalid_value', 'chat_template_kwargs.enable_thinking');
    rejects('chat.completions', { ...chat, chat_template_kwargs: { reasoning_effort: 'max' } }, 'invalid_value', 'chat_template_kwargs.reasoning_effort');
  });

  it('lets a runtime fetch image URLs only from the allow-listed hosts; data: URLs are bounded', () => {
    const chat = BASE['chat.completions'];
    const image = (url: string) => ({ ...chat, messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url } }] }] });
    const param = 'messages[0].content[1].image_url.url';
    for (const url of ['https://images.example.com/cat.png', 'http://IMAGES.example.com/a.jpg', 'https://a.cdn.example.org/x.png', 'https://b.a.cdn.example.org/x', 'data:image/png;base64,iVBORw0KGgo=']) {
      validator.parse('chat.completions', JSON.stringify(image(url)));
    }
    for (const url of [
      'http://169.254.169.254/latest/meta-data/', 'http://localhost:8080/admin', 'https://cdn.example.org/x.png', 'https://evil.com/images.example.com/x.png',
      'https://images.example.com.evil.com/x.png', 'file:///etc/passwd', 'ftp://images.example.com/x.png', 'data:text/html;base64,PGI+', 'not a url',
      `data:image/png;base64,${'A'.repeat(2048)}`,
    ]) {
      rejects('chat.completions', image(url), 'invalid_image_url', param);
    }
  });

  it('refuses every remote image URL by default (empty allow-list), keeps data: URLs', () => {
    const strict = new RequestValidator({ prompt: { ...limits, imageUrlHosts: [] } } as unknown as AppConfig);
    const image = (url: string) => JSON.stringify({ ...BASE['chat.completions'], messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] });
    assert.throws(() => strict.parse('chat.completions', image('https://images.example.com/cat.png')), (err: unknown) => err instanceof ApiError && err.code === 'invalid_image_url' && err.param === 'messages[0].content[0].image_url.url');
    strict.parse('chat.completions', image('data:image/jpeg;base64,/9j/4AAQ'));
  });

  it('enforces the rules across fields', () => {
    const chat = BASE['chat.completions'];
    const tool = { type: 'function', function: { name: 'get', parameters: { type: 'object', properties: { a: { type: 'string' } } } } };
    rejects('chat.completions', { ...chat, stream_options: { include_usage: true } }, 'invalid_value', 'stream_options');
    rejects('chat.completions', { ...chat, top_logprobs: 2 }, 'invalid_value', 'top_logprobs');
    rejects('chat.completions', { ...chat, tool_choice: 'required' }, 'invalid_value', 'tool_choice');
    rejects('chat.completions', { ...chat, tools: [tool], tool_choice: { type: 'function', function: { name: 'other' } } }, 'invalid_value', 'tool_choice.function.name');
    rejects('chat.completions', { ...chat, tools: [tool, tool] }, 'invalid_value', 'tools[1].function.name');
    rejects('chat.completions', { ...chat, tools: [{ ...tool, function: { name: 'bad', parameters: { type: 'objectt' } } }] }, 'invalid_value', 'tools[0].function.parameters');
    rejects(
      'chat.completions',
      { ...chat, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { type: 'nope' } } } } } },
      'invalid_value',
      'response_format.json_schema.schema',
    );
    validator.parse('chat.completions', JSON.stringify({ ...chat, tools: [tool], tool_choice: { type: 'function', function: { name: 'get' } } }));
  });

  it('refuses chat output caps that are negative, zero, fractional or beyond 32 bits', () => {
    const chat = BASE['chat.completions'];
    for (const param of ['max_tokens', 'max_completion_tokens']) {
      for (const bad of [-100_000_000_000, -1, 0, 1.5, 2_147_483_648, 1e300]) rejects('chat.completions', { ...chat, [param]: bad }, 'invalid_value', param);
      for (const good of [1, 2_147_483_647, null]) validator.parse('chat.completions', JSON.stringify({ ...chat, [param]: good }));
    }
    const err = (() => {
      try {
        validator.parse('chat.completions', JSON.stringify({ ...chat, max_tokens: -100_000_000_000 }));
      } catch (e) {
        return e as ApiError;
      }
    })();
    assert.equal(err?.message, "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got -100000000000 instead.");
  });

  it('bounds the numbers /v1/completions reserves from: max_tokens (0 allowed, as in the spec), n, best_of, the prompt list', () => {
    const base = BASE.completions;
    for (const bad of [-1, 1.5, 2_147_483_648, 1e300]) rejects('completions', { ...base, max_tokens: bad }, 'invalid_value', 'max_tokens');
    for (const good of [0, 1, 2_147_483_647]) validator.parse('completions', JSON.stringify({ ...base, max_tokens: good }));
    for (const bad of [0, 129, 1.5, -3]) rejects('completions', { ...base, n: bad }, 'invalid_value', 'n');
    for (const bad of [-1, 21, 1.5]) rejects('completions', { ...base, best_of: bad }, 'invalid_value', 'best_of');
    for (const good of [0, 20]) validator.parse('completions', JSON.stringify({ ...base, best_of: good }));
    rejects('completions', { ...base, prompt: [] }, 'invalid_value', 'prompt');
    rejects('completions', { ...base, prompt: null }, 'invalid_value', 'prompt');
    for (const bad of [0, 129]) rejects('chat.completions', { ...BASE['chat.completions'], n: bad }, 'invalid_value', 'n');
  });

  it('refuses a user schema whose $schema names an unknown dialect, naming the param; accepts draft-07, 2019-09 and 2020-12', () => {
    const chat = BASE['chat.completions'];
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const format = (s: object) => ({ ...chat, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: s } } });
    const tool = (s: object) => ({ ...chat, tools: [{ type: 'function', function: { name: 'f', parameters: s } }] });
    for (const bad of ['http://bogus', 'http://json-schema.org/draft-04/schema#', 5, null]) {
      rejects('chat.completions', format({ $schema: bad, ...schema }), 'invalid_value', 'response_format.json_schema.schema');
      rejects('chat.completions', tool({ $schema: bad, ...schema }), 'invalid_value', 'tools[0].function.parameters');
    }
    for (const dialect of [
      'http://json-schema.org/draft-07/schema#',
      'http://json-schema.org/draft-07/schema',
      'https://json-schema.org/draft/2019-09/schema#',
      'https://json-schema.org/draft/2020-12/schema',
    ]) {
      validator.parse('chat.completions', JSON.stringify(format({ $schema: dialect, ...schema })));
      validator.parse('chat.completions', JSON.stringify(tool({ $schema: dialect, ...schema })));
      // Each dialect is checked against its own meta-schema.
      rejects('chat.completions', format({ $schema: dialect, type: 'objectt' }), 'invalid_value', 'response_format.json_schema.schema');
    }
  });

  it('enforces limits against abuse', () => {
    const chat = BASE['chat.completions'];
    // Deep nesting anywhere (here in a vLLM extension no schema covers) is refused before it can
    // exhaust the stack downstream.
    rejects('chat.completions', `{"model":"m","messages":[{"role":"user","content":"x"}],"top_k":${'['.repeat(5000)}${']'.repeat(5000)}}`, 'invalid_value', null);
    rejects('completions', { model: 'm', prompt: Array.from({ length: 2049 }, () => 'x') }, 'invalid_value', 'prompt');
    validator.parse('completions', JSON.stringify({ model: 'm', prompt: Array.from({ length: 5000 }, (_, i) => i) }));
    const tool = (name: string) => ({ type: 'function', function: { name } });
    rejects('chat.completions', { ...chat, messages: Array.from({ length: 9 }, () => ({ role: 'user', content: 'x' })) }, 'invalid_value', 'messages');
    rejects('chat.completions', { ...chat, messages: [{ role: 'user', content: 'x'.repeat(1001) }] }, 'invalid_value', 'messages[0].content');
    rejects('chat.completions', { ...chat, tools: [tool('a'), tool('b'), tool('c')] }, 'invalid_value', 'tools');
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 6; i++) deep = { type: 'object', properties: { x: deep } };
    rejects('chat.completions', { ...chat, tools: [{ type: 'function', function: { name: 'd', parameters: deep } }] }, 'invalid_value', 'tools[0].function.parameters');
  });
});
