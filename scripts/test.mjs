// `npm test`: installs, makes sure PostgreSQL and Redis are up, builds, checks the module rules,
// migrates a test database and runs every suite (unit specs next to the code, integration and end-to-end suites under test/).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, build, ensureDatabase, ensureServices, installDependencies, migrate, step } from './lib/setup.mjs';

const databaseUrl = process.env.SWITCHYARD_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/switchyard_test';
const redisUrl = process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

installDependencies();
await ensureServices(databaseUrl, redisUrl);
await ensureDatabase(databaseUrl);
build(databaseUrl);
step('checking the module rules (docs/architecture.md)');
const rules = spawnSync(process.execPath, ['scripts/architecture/check.mjs'], { cwd: ROOT, stdio: 'inherit' });
if (rules.status !== 0) process.exit(rules.status ?? 1);
migrate(databaseUrl);

function collect(dir, suffixes, out = []) {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) collect(full, suffixes, out);
    else if (suffixes.some((s) => entry.endsWith(s))) out.push(path.relative(ROOT, full));
  }
  return out;
}

const filter = process.argv.slice(2);
let files = ['src', 'runtimes', 'test']
  .map((d) => path.join(ROOT, 'dist', d))
  .flatMap((d) => {
    try {
      return collect(d, ['.spec.js', '.test.js']);
    } catch {
      return [];
    }
  });
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
step(`running ${files.length} test files`);
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-force-exit', '--test-reporter=spec', ...files], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, SWITCHYARD_DATABASE_URL: databaseUrl, SWITCHYARD_REDIS_URL: redisUrl, SWITCHYARD_LOG_LEVEL: process.env.SWITCHYARD_LOG_LEVEL ?? 'silent' },
});
process.exit(result.status ?? 1);
