import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseCatalogue } from './config.js';

const catalogue = parseCatalogue(
  { pools: [{ name: 'p', runtime: 'sim', provider: 'local', servedModel: 's', sim: { profile: 'zero' } }], models: [{ name: 'm', pool: 'p', contextWindow: 10, tokenizer: 'llama3' }] },
  'test',
);
const env = { SWITCHYARD_KEY_PEPPER: 'p'.repeat(32) };

describe('config', () => {
  it('fills defaults', () => {
    const config = loadConfig(env, catalogue);
    assert.equal(config.port, 8080);
    assert.equal(config.catalogue.pools[0]!.replicas, 1);
    assert.equal(config.catalogue.models[0]!.kind, 'chat');
  });

  it('names the bad setting', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ ...env, SWITCHYARD_PORT: 'eighty' }, /SWITCHYARD_PORT/],
      [{ ...env, SWITCHYARD_REDIS_URL: 'http://x' }, /SWITCHYARD_REDIS_URL/],
      [{ ...env, SWITCHYARD_LOG_LEVEL: 'loud' }, /SWITCHYARD_LOG_LEVEL/],
      [{ SWITCHYARD_KEY_PEPPER: 'short' }, /SWITCHYARD_KEY_PEPPER/],
      [{ ...env, SWITCHYARD_BOOTSTRAP_API_KEY: 'sk-sy-short' }, /SWITCHYARD_BOOTSTRAP_API_KEY/],
      [{ ...env, SWITCHYARD_AUTH_CACHE_TTL_MS: '-1' }, /SWITCHYARD_AUTH_CACHE_TTL_MS/],
    ];
    for (const [e, pattern] of bad) assert.throws(() => loadConfig(e, catalogue), (err: unknown) => err instanceof ConfigError && pattern.test(err.message));
  });

  it('never echoes a rejected secret setting', () => {
    const secret = 'sk-sy-this-is-a-secret!';
    assert.throws(
      () => loadConfig({ ...env, SWITCHYARD_BOOTSTRAP_API_KEY: secret }, catalogue),
      (err: unknown) => err instanceof ConfigError && !err.message.includes('this-is-a-secret'),
    );
    assert.equal(loadConfig({ ...env, SWITCHYARD_BOOTSTRAP_API_KEY: '' }, catalogue).bootstrapApiKey, undefined);
  });

  it('rejects catalogues with dangling references', () => {
    const pools = [{ name: 'p', runtime: 'sim', provider: 'local', servedModel: 's', sim: { profile: 'zero' } }];
    assert.throws(() => parseCatalogue({ pools, models: [{ name: 'm', pool: 'q', contextWindow: 1, tokenizer: 'llama3' }] }, 'f'), /unknown pool "q"/);
    assert.throws(() => parseCatalogue({ pools, models: [{ name: 'm', pool: 'p', contextWindow: 1, tokenizer: 'llama3', fallbacks: ['x'] }] }, 'f'), /unknown model "x"/);
    assert.throws(() => parseCatalogue({ pools, models: [{ name: 'm', pool: 'p', contextWindow: 0, tokenizer: 'llama3' }] }, 'f'), /contextWindow/);
  });
});
