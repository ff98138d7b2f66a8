// Prisma CLI configuration. Migrations run through Prisma's JavaScript schema engine over the pg driver
// adapter (Prisma 6.19), so no native engine binary is downloaded.
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

// The adapter rejects Postgres system column types ("name", "char") that migration introspection
// selects (prisma#27403): report those columns as text, which is what their values are.
const TEXT_OID = 25;
const SYSTEM_TEXT_OIDS = new Set([18, 19]);

function asText(res: pg.QueryResult | undefined): void {
  for (const field of res?.fields ?? []) {
    if (SYSTEM_TEXT_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
  }
}

// pg.Pool#query calls the client with a callback; the adapter's own clients use promises: cover both.
class MigrationClient extends pg.Client {
  override query(...args: any[]): any {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (err: Error | null, res: pg.QueryResult) => {
        asText(res);
        last(err, res);
      };
    }
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    return result instanceof Promise ? result.then((res) => (asText(res as pg.QueryResult), res)) : result;
  }
}

function poolConfig() {
  const url = new URL(process.env.SWITCHYARD_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/switchyard');
  // Discrete fields: a connection string would override the shadow database name.
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1) || 'switchyard',
  };
}

export default defineConfig({
  experimental: { adapter: true },
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  engine: 'js',
  adapter: async () => new PrismaPg(new pg.Pool({ ...poolConfig(), Client: MigrationClient, allowExitOnIdle: true })),
});
