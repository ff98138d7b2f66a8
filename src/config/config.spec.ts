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
  it('reads routing and scheduling settings, with defaults, and names a bad one', () => {
    const defaults = loadConfig(env, catalogue).scheduling;
    assert.equal(defaults.policy, 'prefix-load');
    assert.equal(defaults.prefillBudgetTokens, 8192);
    assert.equal(defaults.prefillStallMs, 1_000);
    assert.equal(defaults.kvHighWatermark, 0.9);
    assert.deepEqual(defaults.saturationFallbackTiers, ['free']);
    assert.deepEqual(defaults.queueTimeoutMs, { interactive: 30_000, flex: 600_000, batch: 0 });
    const custom = loadConfig({ ...env, SWITCHYARD_ROUTING_POLICY: 'round-robin', SWITCHYARD_FALLBACK_ON_SATURATION_TIERS: 'free, standard' }, catalogue).scheduling;
    assert.equal(custom.policy, 'round-robin');
    assert.deepEqual(custom.saturationFallbackTiers, ['free', 'standard']);
    assert.deepEqual(loadConfig({ ...env, SWITCHYARD_FALLBACK_ON_SATURATION_TIERS: '' }, catalogue).scheduling.saturationFallbackTiers, []);
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ ...env, SWITCHYARD_ROUTING_POLICY: 'random' }, /SWITCHYARD_ROUTING_POLICY/],
      [{ ...env, SWITCHYARD_FALLBACK_ON_SATURATION_TIERS: 'gold' }, /SWITCHYARD_FALLBACK_ON_SATURATION_TIERS/],
      [{ ...env, SWITCHYARD_SCHED_KV_HIGH_WATERMARK_PCT: '120' }, /SWITCHYARD_SCHED_KV_HIGH_WATERMARK_PCT/],
      [{ ...env, SWITCHYARD_BREAKER_EJECT_BASE_MS: '5000', SWITCHYARD_BREAKER_EJECT_MAX_MS: '1000' }, /SWITCHYARD_BREAKER_EJECT_MAX_MS/],
      [{ ...env, SWITCHYARD_DISPATCH_MAX_ATTEMPTS: '0' }, /SWITCHYARD_DISPATCH_MAX_ATTEMPTS/],
    ];
    for (const [e, pattern] of bad) assert.throws(() => loadConfig(e, catalogue), (err: unknown) => err instanceof ConfigError && pattern.test(err.message));
  });
});
