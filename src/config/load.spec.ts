import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_TIER_LIMITS, loadConfig, parseCatalogue } from './index.js';

const catalogue = parseCatalogue(
  { pools: [{ name: 'p', runtime: 'sim', provider: 'local', servedModel: 's', sim: { profile: 'zero' } }], models: [{ name: 'm', pool: 'p', contextWindow: 10, tokenizer: 'llama3' }] },
  'test',
);
const env = { SWITCHYARD_KEY_PEPPER: 'p'.repeat(32) };

const names = (pattern: RegExp) => (err: unknown) => err instanceof ConfigError && pattern.test(err.message);

describe('loadConfig', () => {
  it('fills defaults', () => {
    const config = loadConfig(env, catalogue);
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.migrateOnStart, true);
    assert.deepEqual(config.edge.trustedProxies, []);
    assert.deepEqual(config.quota.failMode, { rate: 'open', spend: 'closed' });
    assert.equal(config.bootstrapApiKey, undefined);
    assert.deepEqual(config.quota.tiers, DEFAULT_TIER_LIMITS);
    assert.equal(config.catalogue.pools[0]!.replicas, 1);
    assert.equal(config.catalogue.models[0]!.kind, 'chat');
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig({ ...env, SWITCHYARD_PORT: '', SWITCHYARD_TRUST_PROXY: '', SWITCHYARD_LOG_LEVEL: '' }, catalogue);
    assert.equal(config.port, 8080);
    assert.equal(config.logLevel, 'info');
  });

  it('reads each kind of setting', () => {
    const config = loadConfig(
      { ...env, SWITCHYARD_PORT: '0', SWITCHYARD_MIGRATE_ON_START: 'false', SWITCHYARD_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7,::1,fd00::/8,loopback', SWITCHYARD_QUOTA_FAIL_MODE_RATE: 'closed', SWITCHYARD_DATABASE_URL: 'postgres://u:pw@db:5432/x' },
      catalogue,
    );
    assert.equal(config.port, 0);
    assert.equal(config.migrateOnStart, false);
    assert.deepEqual(config.edge.trustedProxies, ['10.0.0.0/8', '192.168.1.7', '::1', 'fd00::/8', 'loopback']);
    assert.equal(config.quota.failMode.rate, 'closed');
    assert.equal(config.databaseUrl, 'postgres://u:pw@db:5432/x');
  });

  it('names the bad setting, and quotes a value that is not sensitive', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ ...env, SWITCHYARD_PORT: 'eighty' }, /^SWITCHYARD_PORT must be an integer between 0 and 65535, got "eighty"$/],
      [{ ...env, SWITCHYARD_REDIS_URL: 'http://x' }, /SWITCHYARD_REDIS_URL must use redis: or rediss:/],
      [{ ...env, SWITCHYARD_LOG_LEVEL: 'loud' }, /^SWITCHYARD_LOG_LEVEL must be one of .*, got "loud"$/],
      [{ ...env, SWITCHYARD_TRUST_PROXY: 'true' }, /^SWITCHYARD_TRUST_PROXY was replaced by SWITCHYARD_TRUSTED_PROXIES/],
      [{ ...env, SWITCHYARD_TRUSTED_PROXIES: '10.0.0.0/8,proxy.internal' }, /SWITCHYARD_TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDRs \("proxy.internal"/],
      [{ ...env, SWITCHYARD_TRUSTED_PROXIES: '10.0.0.0/33' }, /SWITCHYARD_TRUSTED_PROXIES/],
      [{ ...env, SWITCHYARD_HEADERS_TIMEOUT_MS: '20000', SWITCHYARD_REQUEST_TIMEOUT_MS: '10000' }, /SWITCHYARD_HEADERS_TIMEOUT_MS must not exceed/],
      [{ SWITCHYARD_KEY_PEPPER: 'short' }, /SWITCHYARD_KEY_PEPPER/],
      [{}, /SWITCHYARD_KEY_PEPPER must be set/],
      [{ ...env, SWITCHYARD_BOOTSTRAP_API_KEY: 'sk-sy-short' }, /SWITCHYARD_BOOTSTRAP_API_KEY/],
      [{ ...env, SWITCHYARD_AUTH_CACHE_TTL_MS: '-1' }, /SWITCHYARD_AUTH_CACHE_TTL_MS/],
    ];
    for (const [e, pattern] of bad) assert.throws(() => loadConfig(e, catalogue), names(pattern));
  });

  it('says which setting is at fault on the error', () => {
    assert.throws(() => loadConfig({ ...env, SWITCHYARD_MAX_TOOLS: 'many' }, catalogue), (err: unknown) => err instanceof ConfigError && err.setting === 'SWITCHYARD_MAX_TOOLS');
  });

  it('needs the catalogue file unless a catalogue is given', () => {
    assert.throws(() => loadConfig(env), names(/^SWITCHYARD_CONFIG_FILE must name the model catalogue/));
    assert.throws(() => loadConfig({ ...env, SWITCHYARD_CONFIG_FILE: '/nonexistent/switchyard.yaml' }), names(/SWITCHYARD_CONFIG_FILE: cannot read "\/nonexistent\/switchyard.yaml"/));
  });

  it('reads routing and scheduling settings, with defaults, and names a bad one', () => {
    const defaults = loadConfig(env, catalogue).scheduling;
    assert.equal(defaults.policy, 'prefix-load');
    assert.equal(defaults.prefillBudgetTokens, 8192);
    assert.equal(defaults.prefillStallMs, 1_000);
    assert.equal(defaults.kvHighWatermark, 0.9);
    assert.equal(defaults.boundedLoadFactor, 1.5);
    assert.deepEqual(defaults.saturationFallbackTiers, ['free']);
    assert.deepEqual(defaults.queueTimeoutMs, { interactive: 30_000, flex: 600_000, batch: 0 });
    assert.equal(defaults.fleet.probeTimeoutMs, 1_000);
    assert.equal(loadConfig({ ...env, SWITCHYARD_FLEET_SCRAPE_INTERVAL_MS: '500' }, catalogue).scheduling.fleet.probeTimeoutMs, 500);
    assert.equal(loadConfig({ ...env, SWITCHYARD_FLEET_SCRAPE_INTERVAL_MS: '500', SWITCHYARD_FLEET_PROBE_TIMEOUT_MS: '2000' }, catalogue).scheduling.fleet.probeTimeoutMs, 2_000);
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
    for (const [e, pattern] of bad) assert.throws(() => loadConfig(e, catalogue), names(pattern));
  });
});
