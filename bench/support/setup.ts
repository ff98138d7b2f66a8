/** Database set-up shared by the benchmarks' runners. */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root (this file runs from dist/bench/support/). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface SetupModule {
  ensureServices(databaseUrl: string, redisUrl: string): Promise<void>;
  ensureDatabase(databaseUrl: string): Promise<void>;
  migrate(databaseUrl: string): void;
}

export async function prepareDatabase(databaseUrl: string, redisUrl: string): Promise<void> {
  // The same steps `npm start` and `npm test` use: start local PostgreSQL/Redis if down, create the
  // database with pg if missing, `prisma migrate deploy` through scripts/unref-timers.mjs.
  const setup = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'lib', 'setup.mjs')).href)) as SetupModule;
  await setup.ensureServices(databaseUrl, redisUrl);
  await setup.ensureDatabase(databaseUrl);
  setup.migrate(databaseUrl);
}
