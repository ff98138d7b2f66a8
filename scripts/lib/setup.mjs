// Shared set-up steps for `npm start` (quickstart) and `npm test`: dependencies, services, database,
// build, migrations. Plain Node with no dependencies, so it runs before `npm ci` has.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function step(message) {
  process.stdout.write(`\x1b[36m▸\x1b[0m ${message}\n`);
}

export function fail(message) {
  process.stderr.write(`\x1b[31m✗ ${message}\x1b[0m\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: opts.quiet ? 'pipe' : 'inherit', env: { ...process.env, ...opts.env } });
  if (result.status !== 0) {
    if (opts.quiet) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    fail(`${cmd} ${args.join(' ')} failed (exit ${result.status})`);
  }
  return result;
}

/** npm ci when node_modules is missing or older than the lock file. */
export function installDependencies() {
  const marker = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  step('installing dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
}

function reachable(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitFor(host, port, seconds) {
  for (let i = 0; i < seconds * 4; i++) {
    if (await reachable(host, port)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' }).status === 0;
}

/** Makes sure PostgreSQL and Redis answer on their URLs; starts local installs that are down. */
export async function ensureServices(databaseUrl, redisUrl) {
  const pg = new URL(databaseUrl);
  const pgHost = pg.hostname;
  const pgPort = Number(pg.port || 5432);
  if (!(await reachable(pgHost, pgPort))) {
    if (['127.0.0.1', 'localhost'].includes(pgHost) && which('pg_ctlcluster') && existsSync('/etc/postgresql')) {
      step('starting the local PostgreSQL');
      const version = execFileSync('ls', ['/etc/postgresql']).toString().trim().split('\n')[0];
      spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
    }
    if (!(await waitFor(pgHost, pgPort, 20))) {
      fail(`PostgreSQL is not reachable at ${pgHost}:${pgPort}. Install it (apt-get install postgresql) or set SWITCHYARD_DATABASE_URL.`);
    }
  }
  const redis = new URL(redisUrl);
  const redisHost = redis.hostname;
  const redisPort = Number(redis.port || 6379);
  if (!(await reachable(redisHost, redisPort))) {
    if (['127.0.0.1', 'localhost'].includes(redisHost) && which('redis-server')) {
      step('starting the local Redis');
      spawnSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no'], { stdio: 'inherit' });
    }
    if (!(await waitFor(redisHost, redisPort, 20))) {
      fail(`Redis is not reachable at ${redisHost}:${redisPort}. Install it (apt-get install redis-server) or set SWITCHYARD_REDIS_URL.`);
    }
  }
}

/** Creates the database named in the URL if it does not exist (connects to the `postgres` database). */
export async function ensureDatabase(databaseUrl) {
  const { default: pg } = await import('pg');
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      step(`creating database ${name}`);
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    }
  } finally {
    await client.end();
  }
}

/** Generates the Prisma client and compiles TypeScript. */
export function build(databaseUrl) {
  step('building (prisma generate, tsc)');
  // The schema's datasource reads the URL; without a valid one the CLI falls back to fetching an engine.
  run('node', ['node_modules/prisma/build/index.js', 'generate'], { quiet: true, env: { SWITCHYARD_DATABASE_URL: databaseUrl } });
  // A clean build (about a second): compiled files of sources that moved or were deleted would
  // otherwise stay in dist/ and run as tests.
  rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });
  run('node', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
}

/** Applies committed migrations (prisma migrate deploy). */
export function migrate(databaseUrl) {
  step('applying database migrations');
  run('node', ['--import', './scripts/unref-timers.mjs', 'node_modules/prisma/build/index.js', 'migrate', 'deploy'], {
    quiet: true,
    env: { SWITCHYARD_DATABASE_URL: databaseUrl },
  });
}

export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}
