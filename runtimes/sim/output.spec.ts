/** Output generation: real tokens, determinism, limits, stop strings, JSON-schema values. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { loadTokenizer, type ModelTokenizer } from '../../src/prompt/tokenizer.js';
import { applyStop, choiceSeed, OutputVocabulary, tokenLogprob } from './output.js';
import { createRng } from './rng.js';
import { pyJson, sampleFromSchema } from './schema-fill.js';

let tok: ModelTokenizer;
let vocab: OutputVocabulary;
before(() => {
  tok = loadTokenizer('llama3');
  vocab = new OutputVocabulary(tok);
});

describe('OutputVocabulary', () => {
  it('prose is made of real tokens whose pieces concatenate to the decoded text', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const plan = vocab.proseOutput(seed, { maxTokens: 1000 });
      assert.equal(plan.text, tok.decode(plan.ids));
      assert.equal(plan.pieces.length, plan.ids.length);
      assert.ok(plan.ids.length >= 20 && plan.ids.length <= 200, `natural length ${plan.ids.length}`);
      assert.equal(plan.finishReason, 'stop');
      assert.equal(plan.ids.at(-1), tok.tokenToId('<|eot_id|>'), 'a natural end is the end-of-turn token');
      assert.equal(plan.pieces.at(-1), '');
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    assert.deepEqual(vocab.proseOutput(42, { maxTokens: 100 }).ids, vocab.proseOutput(42, { maxTokens: 100 }).ids);
    assert.notDeepEqual(vocab.proseOutput(42, { maxTokens: 100 }).ids, vocab.proseOutput(43, { maxTokens: 100 }).ids);
  });

  it('max_tokens cuts the output with finish_reason length; ignore_eos runs to max_tokens', () => {
    const plan = vocab.proseOutput(7, { maxTokens: 5 });
    assert.equal(plan.ids.length, 5);
    assert.equal(plan.finishReason, 'length');
    const long = vocab.proseOutput(7, { maxTokens: 600, ignoreEos: true });
    assert.equal(long.ids.length, 600);
    assert.equal(long.finishReason, 'length');
    const min = vocab.proseOutput(7, { maxTokens: 1000, minTokens: 300 });
    assert.ok(min.ids.length >= 301);
  });

  it('a stop string truncates the text before the match and bills the tokens generated up to it', () => {
    const full = vocab.proseOutput(11, { maxTokens: 1000 });
    const words = full.text.split(' ');
    const stop = ` ${words[6]}`;
    const plan = vocab.proseOutput(11, { maxTokens: 1000, stop: ['zzz-never', stop] });
    assert.equal(plan.finishReason, 'stop');
    assert.equal(plan.stopReason, stop);
    assert.equal(plan.text, full.text.slice(0, full.text.indexOf(stop)));
    assert.ok(!plan.text.includes(stop));
    assert.ok(plan.ids.length < full.ids.length);
    assert.deepEqual(plan.ids, full.ids.slice(0, plan.ids.length));
  });

  it('applyStop keeps the token that completes the match and empties pieces from the match on', () => {
    const r = applyStop(['Hello', ' wor', 'ld', ' again'], ['world']);
    assert.deepEqual(r, { tokens: 3, pieces: ['Hello', ' ', ''], stop: 'world' });
    assert.equal(applyStop(['abc'], ['x']), null);
  });

  it('encodes non-ASCII text without splitting characters across pieces', () => {
    const seq = vocab.encode('naïve café 日本語 🚀');
    assert.equal(seq.pieces.join(''), 'naïve café 日本語 🚀');
    for (const piece of seq.pieces) assert.ok(!piece.includes('\uFFFD'));
  });

  it('temperature 0 ignores the seed and the choice index', () => {
    const a = choiceSeed({ serverSeed: 0, promptHash: 5, seed: 1, temperature: 0, index: 0 });
    const b = choiceSeed({ serverSeed: 0, promptHash: 5, seed: 2, temperature: 0, index: 1 });
    assert.equal(a, b);
    assert.notEqual(choiceSeed({ serverSeed: 0, promptHash: 5, seed: 1, index: 0 }), choiceSeed({ serverSeed: 0, promptHash: 5, seed: 1, index: 1 }));
  });

  it('logprobs: the sampled token ranks first, alternatives are distinct and less likely', () => {
    const lp = tokenLogprob(vocab, 9, 3, 1234, 5);
    assert.equal(lp.top.length, 5);
    assert.equal(lp.top[0].id, 1234);
    assert.equal(new Set(lp.top.map((t) => t.id)).size, 5);
    for (let i = 1; i < 5; i++) assert.ok(lp.top[i].logprob < lp.top[i - 1].logprob);
    assert.ok(lp.logprob <= 0);
  });
});

describe('sampleFromSchema', () => {
  const ajv = new Ajv({ strict: false });
  const schemas: Record<string, Record<string, unknown>> = {
    weather: {
      type: 'object',
      properties: { city: { type: 'string', minLength: 3, maxLength: 12 }, unit: { enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
    nested: {
      type: 'object',
      properties: {
        order: {
          type: 'object',
          properties: {
            id: { type: 'string', format: 'uuid' },
            items: {
              type: 'array',
              minItems: 2,
              maxItems: 4,
              items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer', exclusiveMinimum: 0, maximum: 10 }, price: { type: 'number', minimum: 0.5, multipleOf: 0.25 } }, required: ['sku', 'qty', 'price'] },
            },
            placed: { type: 'string', format: 'date-time' },
          },
          required: ['id', 'items', 'placed'],
        },
        priority: { const: 'high' },
        tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, minItems: 1 },
      },
      required: ['order', 'priority', 'tags'],
    },
    unions: {
      type: 'object',
      properties: {
        a: { anyOf: [{ type: 'integer', minimum: 10 }, { type: 'string' }] },
        b: { oneOf: [{ type: 'boolean' }, { type: 'null' }] },
        c: { type: ['null', 'number'], maximum: -5 },
        d: { allOf: [{ type: 'object', properties: { x: { type: 'integer' } }, required: ['x'] }, { properties: { y: { type: 'string' } }, required: ['y'] }] },
      },
      required: ['a', 'b', 'c', 'd'],
    },
    refs: {
      $defs: { point: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } }, required: ['x', 'y'] } },
      type: 'object',
      properties: { from: { $ref: '#/$defs/point' }, to: { $ref: '#/$defs/point' }, via: { type: 'array', items: { $ref: '#/$defs/point' }, maxItems: 2 } },
      required: ['from', 'to'],
    },
    scalars: { type: 'array', prefixItems: [{ type: 'integer', minimum: -3, maximum: -1 }, { type: 'string', minLength: 40 }], minItems: 2, maxItems: 2 },
  };
  for (const [name, schema] of Object.entries(schemas)) {
    it(`produces values valid against the ${name} schema for many seeds`, () => {
      const validate = ajv.compile(schema);
      for (let seed = 0; seed < 200; seed++) {
        const value = sampleFromSchema(schema, createRng(seed));
        assert.ok(validate(value), `seed ${seed}: ${JSON.stringify(value)} ${ajv.errorsText(validate.errors)}`);
        assert.deepEqual(JSON.parse(pyJson(value)), value, 'pyJson round-trips');
      }
    });
  }

  it('prints JSON with Python json.dumps separators, as vLLM returns tool arguments', () => {
    assert.equal(pyJson({ a: 1, b: ['x', null, true], c: { d: 'é' } }), '{"a": 1, "b": ["x", null, true], "c": {"d": "é"}}');
  });
});
