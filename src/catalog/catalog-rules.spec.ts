import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors/index.js';
import { checkModelDefinition, referencesTo } from './catalog-rules.js';
import type { ModelDefinition } from './catalog.types.js';

const model = (name: string, over: Partial<ModelDefinition> = {}): ModelDefinition => ({
  name, kind: 'chat', aliases: [], pool: 'p', contextWindow: 4096, maxOutputTokens: null, tokenizer: 'llama3',
  inputPricePerMTok: 0, outputPricePerMTok: 0, capabilities: {}, fallbacks: [], ownedBy: 'x', ...over,
});
const POOLS = new Set(['p']);

function refusal(fn: () => void): [string, string | null] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return [err.code, err.param ?? null];
  }
  return assert.fail('expected a refusal');
}

describe('checkModelDefinition', () => {
  const others = [model('a', { aliases: ['a-alias'] }), model('b', { fallbacks: ['a-alias'] })];

  it('accepts a model with fresh names, a served pool and known fallbacks (by name or alias)', () => {
    checkModelDefinition(model('c', { aliases: ['c1'], fallbacks: ['a', 'a-alias'], maxOutputTokens: 4096 }), others, POOLS);
  });

  it('treats names and aliases as one namespace', () => {
    assert.deepEqual(refusal(() => checkModelDefinition(model('a-alias'), others, POOLS)), ['conflict', 'name']);
    assert.deepEqual(refusal(() => checkModelDefinition(model('c', { aliases: ['x', 'b'] }), others, POOLS)), ['conflict', 'aliases[1]']);
    assert.deepEqual(refusal(() => checkModelDefinition(model('c', { aliases: ['c'] }), others, POOLS)), ['invalid_value', 'aliases[0]']);
    assert.deepEqual(refusal(() => checkModelDefinition(model('c', { aliases: ['x', 'x'] }), others, POOLS)), ['invalid_value', 'aliases[1]']);
  });

  it('refuses an unserved pool, unknown or self fallbacks, and an output bound over the window', () => {
    assert.deepEqual(refusal(() => checkModelDefinition(model('c', { pool: 'q' }), others, POOLS)), ['invalid_value', 'pool']);
    assert.deepEqual(refusal(() => checkModelDefinition(model('c', { fallbacks: ['a', 'zz'] }), others, POOLS)), ['invalid_value', 'fallbacks[1]']);
    assert.deepEqual(refusal(() => checkModelDefinition(model('c', { aliases: ['c1'], fallbacks: ['c1'] }), others, POOLS)), ['invalid_value', 'fallbacks[0]']);
    assert.deepEqual(refusal(() => checkModelDefinition(model('c', { maxOutputTokens: 4097 }), others, POOLS)), ['invalid_value', 'max_output_tokens']);
  });

  it('finds the models that fall back to a model by any of its names', () => {
    assert.deepEqual(referencesTo(others[0]!, others), ['b']);
    assert.deepEqual(referencesTo(others[1]!, others), []);
  });
});
