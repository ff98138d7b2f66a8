/**
 * A PostgreSQL cluster of a test's own (initdb + pg_ctl on a spare port, trust auth), so a suite can
 * stop and restart the database without touching the shared instance. As root, initdb refuses to run:
 * the cluster is then made and run as the `postgres` system user (runuser). The database given is
 * created and migrated like `npm test` does it.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from './private-redis.js';

export interface PrivatePostgres {
  port: number;
  /** postgresql://postgres@127.0.0.1:<port>/<database> */
  url: string;
  /** `fast` (clean: disconnects clients, checkpoints) or `immediate` (like a crash: recovery at start). */
  stop(mode?: 'fast' | 'immediate'): void;
  /** Starts the cluster again on the same port; returns once it accepts connections. */
  start(): void;
  destroy(): void;
}

interface SetupModule {
  ensureDatabase(databaseUrl: string): Promise<void>;
  migrate(databaseUrl: string): void;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export async function startPrivatePostgres(database = 'switchyard_private'): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  // pg_ctl's own `-w` waits until the server accepts connections (or fails start-up).
  const run = (args: string[]) => execFileSync(asRoot ? 'runuser' : args[0]!, asRoot ? ['-u', 'postgres', '--', ...args] : args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  run(['initdb', '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=50`;
  const start = () => void run(['pg_ctl', '-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
  const stop = (mode: 'fast' | 'immediate' = 'fast') => void run(['pg_ctl', '-D', data, '-m', mode, '-w', 'stop']);
  start();
  const url = `postgresql://postgres@127.0.0.1:${port}/${database}`;
  const setup = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'lib', 'setup.mjs')).href)) as SetupModule;
  await setup.ensureDatabase(url);
  setup.migrate(url);
  return {
    port,
    url,
    stop,
    start,
    destroy: () => {
      try {
        stop('immediate');
      } catch {
        /* not running */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
