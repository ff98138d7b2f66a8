/**
 * A PostgreSQL cluster of the test's own (initdb in a temp directory, a spare loopback port, trust
 * auth, fsync off), which the test may stop and start again without disturbing the shared server.
 *
 *   const pg = await startPrivatePostgres();
 *   … SWITCHYARD_DATABASE_URL: pg.url …      // database `postgres`, user `postgres`, no password
 *   await pg.stop();    // the outage: `pg_ctl stop -m immediate` (connections are cut, as in a crash)
 *   await pg.start();   // the same port and data again; resolves once it accepts connections
 *   await pg.destroy(); // stops it and removes the directory; also done on process exit
 *
 * Binaries: PG_BIN=<dir>, else the newest /usr/lib/postgresql/<version>/bin (Debian's layout).
 * initdb refuses to run as root: as root every command runs as the `postgres` OS user through
 * `runuser -u postgres --` and the directory is handed to that user. initdb takes ~1–2 s here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from './eventually.js';
import { sparePort } from './private-redis.js';

export interface PrivatePostgres {
  port: number;
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error('no PostgreSQL binaries found: set PG_BIN to the directory holding initdb and pg_ctl');
  return path.join(root, versions[0]!, 'bin');
}

export async function startPrivatePostgres(opts: { startTimeoutMs?: number } = {}): Promise<PrivatePostgres> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const base = mkdtempSync(path.join(os.tmpdir(), 'switchyard-pg-'));
  const data = path.join(base, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(base, uid, gid);
  }
  // Runs a PostgreSQL binary (as the postgres OS user when we are root); throws with its output.
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]] : [path.join(bin, tool), args];
    const result = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await sparePort();
  const pgArgs = `-p ${port} -c listen_addresses=127.0.0.1 -k ${base} -c fsync=off -c full_page_writes=off -c synchronous_commit=off`;
  let running = false;

  const cleanUp = () => {
    if (running) spawnSync(asRoot ? 'runuser' : path.join(bin, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), '-D', data, 'stop', '-m', 'immediate'] : ['-D', data, 'stop', '-m', 'immediate']);
    running = false;
    rmSync(base, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);

  const start = async () => {
    if (running) return;
    run('pg_ctl', ['-D', data, '-o', pgArgs, '-l', path.join(base, 'server.log'), '-w', '-t', String(Math.ceil((opts.startTimeoutMs ?? 30_000) / 1000)), 'start']);
    running = true;
    // pg_ctl -w waits for the postmaster; wait until it answers on our TCP port too.
    await eventually(() => spawnSync(path.join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '1']).status === 0, `PostgreSQL on port ${port} to accept connections`, opts.startTimeoutMs ?? 30_000, 50);
  };
  const stop = async () => {
    if (!running) return;
    run('pg_ctl', ['-D', data, 'stop', '-m', 'immediate', '-w']);
    running = false;
  };

  try {
    await start();
  } catch (err) {
    cleanUp();
    throw err;
  }
  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy: async () => {
      cleanUp();
      process.removeListener('exit', cleanUp);
    },
  };
}
