/**
 * Applies the committed migrations (`prisma migrate deploy`) before the gateway serves. Safe with
 * several replicas starting at once: Prisma serialises deploys with a PostgreSQL advisory lock.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export async function migrateDeploy(databaseUrl: string): Promise<void> {
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  const child = spawn(process.execPath, ['--import', path.join(ROOT, 'scripts', 'unref-timers.mjs'), cli, 'migrate', 'deploy'], {
    cwd: ROOT,
    env: { ...process.env, SWITCHYARD_DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`prisma migrate deploy failed (exit ${code}):\n${output.trim().split('\n').slice(-15).join('\n')}`);
}
