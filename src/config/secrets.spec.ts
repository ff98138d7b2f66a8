import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, maskSensitive, parseCatalogue, SETTING_LIST } from './index.js';

const catalogue = parseCatalogue({ pools: [], models: [] }, 'test');
const pepper = 'pepper-0123456789-0123456789-0123456789';
const env = { SWITCHYARD_KEY_PEPPER: pepper };

/** The ConfigError loadConfig throws for env (with the catalogue given, unless `fromFile`). */
function failure(e: Record<string, string>, fromFile = false): ConfigError {
  try {
    loadConfig(e, fromFile ? undefined : catalogue);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail(`no ConfigError for ${Object.keys(e).join(', ')}`);
}

describe('config errors never show a secret', () => {
  it('marks the pepper, the bootstrap key, the metrics token and both URLs sensitive', () => {
    const sensitive = SETTING_LIST.filter((s) => s.sensitive).map((s) => s.name);
    assert.deepEqual(sensitive.sort(), ['SWITCHYARD_BOOTSTRAP_API_KEY', 'SWITCHYARD_DATABASE_URL', 'SWITCHYARD_KEY_PEPPER', 'SWITCHYARD_METRICS_TOKEN', 'SWITCHYARD_REDIS_URL']);
  });

  it('names a rejected sensitive setting without quoting any of its value', () => {
    for (const setting of SETTING_LIST.filter((s) => s.sensitive)) {
      for (const bad of ['bad-XYZSECRET-1', 'ftp://sy:XYZSECRET@db/x']) {
        const err = failure({ ...env, [setting.name]: bad });
        assert.equal(err.setting, setting.name);
        assert.ok(err.message.startsWith(setting.name), err.message);
        assert.ok(!err.message.includes('XYZSECRET'), `${setting.name} quoted its value: ${err.message}`);
      }
    }
  });

  it('does not print the password of a bad SWITCHYARD_DATABASE_URL', () => {
    for (const url of ['mysql://switchyard:hunter2-db-pass@db:3306/x', 'postgresql://switchyard:hunter2-db-pass@[db/x']) {
      const err = failure({ ...env, SWITCHYARD_DATABASE_URL: url });
      assert.match(err.message, /^SWITCHYARD_DATABASE_URL (must use postgresql: or postgres:, got "mysql:"|is not a valid URL)$/);
      assert.ok(!err.message.includes('hunter2'));
    }
  });

  it('never prints the pepper, whether too short or when another setting is at fault', () => {
    const short = failure({ SWITCHYARD_KEY_PEPPER: 'pepper-too-short' });
    assert.match(short.message, /^SWITCHYARD_KEY_PEPPER must be set to a random secret of at least 32 characters/);
    assert.ok(!short.message.includes('pepper-too-short'));
    const other = failure({ ...env, SWITCHYARD_CONFIG_FILE: `/nonexistent/${pepper}.yaml` }, true); // the message names the file
    assert.match(other.message, /^SWITCHYARD_CONFIG_FILE: cannot read "\/nonexistent\/\*\*\*\.yaml"/);
  });

  it('loads valid secrets unchanged (masking touches messages only)', () => {
    const config = loadConfig({ ...env, SWITCHYARD_REDIS_URL: 'redis://:redis-pass-1@cache:6379' }, catalogue);
    assert.equal(config.keyPepper, pepper);
    assert.equal(config.redisUrl, 'redis://:redis-pass-1@cache:6379');
  });

  it('masks sensitive values, and the password inside a sensitive URL, in any message', () => {
    const e = { ...env, SWITCHYARD_DATABASE_URL: 'postgresql://sy:p%40ss-word@db/x', SWITCHYARD_HOST: 'example.internal' };
    const masked = maskSensitive(`at ${pepper}; auth p@ss-word / p%40ss-word failed for postgresql://sy:p%40ss-word@db/x on example.internal`, e);
    assert.equal(masked, 'at ***; auth *** / *** failed for *** on example.internal');
  });
});
