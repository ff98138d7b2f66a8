import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseCatalogue, renderSettingsTable, RETIRED_SETTINGS, SETTING_GROUPS, SETTING_LIST, withSettingsTable } from './index.js';

// dist/src/config → the repository root, where README.md and the TypeScript sources are.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const catalogue = parseCatalogue({ pools: [], models: [] }, 'test');
const env = { SWITCHYARD_KEY_PEPPER: 'p'.repeat(32) };

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (entry !== 'generated') sources(full, out);
    } else if (entry.endsWith('.ts') && !entry.endsWith('.spec.ts')) out.push(full);
  }
  return out;
}

describe('settings list', () => {
  it('declares each SWITCHYARD_* variable once, with a group, a description and its accepted values', () => {
    const names = SETTING_LIST.map((s) => s.name);
    assert.equal(new Set(names).size, names.length, 'a variable is declared twice');
    for (const s of SETTING_LIST) {
      assert.match(s.name, /^SWITCHYARD_[A-Z0-9_]+$/);
      assert.ok(s.group in SETTING_GROUPS, `${s.name}: unknown group ${s.group}`);
      assert.ok(s.description.length > 5 && s.accepts.length > 0, `${s.name}: describe it`);
      assert.ok(s.required || s.shownDefault !== '' || s.sensitive, `${s.name}: show its default`);
    }
  });

  it('is the only way loadConfig reads the environment, and loadConfig reads all of it', () => {
    const read = new Set<string | symbol>();
    const spy = new Proxy(env, { get: (target, key) => (read.add(key), Reflect.get(target, key)) });
    loadConfig(spy, catalogue);
    // Retired names are read too: only to refuse them with what replaced them.
    assert.deepEqual([...read].sort(), [...SETTING_LIST.map((s) => s.name), ...Object.keys(RETIRED_SETTINGS)].sort());
  });

  it('is what README.md shows in its Configuration table', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    assert.equal(
      readme,
      withSettingsTable(readme),
      'README.md\'s environment-variable table differs from src/config/settings.ts: run `npm run docs:settings` and commit README.md',
    );
    for (const s of SETTING_LIST) assert.ok(renderSettingsTable().includes(`| \`${s.name}\` |`), `${s.name} has no row of its own`);
  });
});

describe('config module boundaries', () => {
  it('imports nothing from src/ outside src/config', () => {
    for (const file of sources(path.join(ROOT, 'src', 'config'))) {
      const upward = readFileSync(file, 'utf8').match(/from '\.\.\/[^']*'/g);
      assert.equal(upward, null, `${path.relative(ROOT, file)} imports ${upward}`);
    }
  });

  it('is the only reader of process.env in src/', () => {
    // migrate.ts and the local fleet provider hand the whole environment (PATH, HOME…) to the processes
    // they spawn (the prisma CLI, a runtime); they read no setting.
    const allowed = new Set(['src/config/load.ts', 'src/database/migrate.ts', 'src/fleet/providers/local-process.ts']);
    const readers = sources(path.join(ROOT, 'src'))
      .filter((file) => /process\.env\b/.test(readFileSync(file, 'utf8').replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, '')))
      .map((file) => path.relative(ROOT, file).split(path.sep).join('/'))
      .filter((file) => !allowed.has(file));
    assert.deepEqual(readers, []);
  });
});
