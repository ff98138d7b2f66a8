/**
 * The Prisma client over the pg driver adapter. Only *.repository.ts files use it. Every query's
 * outcome feeds the DependencyMonitor: a failure that means PostgreSQL is unreachable marks the
 * outage (logged once, counted), the next success its recovery. Callers still see the error; the
 * edge turns it into 503 dependency_unavailable (errors/dependency-errors.ts).
 */
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { isPostgresOutage } from '../errors/index.js';
import { DependencyMonitor } from '../observability/index.js';

type Outcome = (err?: unknown) => void;

// The adapter's methods that talk to the server (PgQueryable and PgTransaction).
const IO_METHODS = new Set<PropertyKey>(['queryRaw', 'executeRaw', 'executeScript', 'startTransaction']);

/** The adapter (or a transaction of it) with each IO method's outcome reported to `outcome`. */
function observed<T extends object>(target: T, outcome: Outcome): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj) as unknown;
      if (typeof value !== 'function') return value;
      if (!IO_METHODS.has(prop)) return value.bind(obj);
      return async (...args: unknown[]) => {
        let result: unknown;
        try {
          result = await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        } catch (err) {
          outcome(err);
          throw err;
        }
        outcome();
        return prop === 'startTransaction' ? observed(result as object, outcome) : result;
      };
    },
  });
}

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnApplicationShutdown {
  /** `monitor` is absent only outside the app (the admin CLI). */
  constructor(@Inject(APP_CONFIG) config: AppConfig, @Optional() @Inject(DependencyMonitor) monitor?: DependencyMonitor) {
    const outcome: Outcome = (err) => {
      if (!monitor) return;
      if (err === undefined) monitor.recovered('postgres');
      else if (isPostgresOutage(err)) monitor.failed('postgres', err, 'query');
    };
    const factory = new PrismaPg({ connectionString: config.databaseUrl, max: 10 }, { onPoolError: (err) => outcome(err) });
    const adapter = new Proxy(factory, {
      get(obj, prop) {
        const value = Reflect.get(obj, prop, obj) as unknown;
        if (prop === 'connect') return async () => observed(await factory.connect(), outcome);
        return typeof value === 'function' ? value.bind(obj) : value;
      },
    });
    super({ adapter });
  }

  /** Fails start-up when the database is unreachable. */
  async onModuleInit(): Promise<void> {
    await this.ping().catch((err: Error) => {
      throw new Error(`PostgreSQL is not reachable at SWITCHYARD_DATABASE_URL: ${err.message}`);
    });
  }

  async ping(): Promise<void> {
    await this.$queryRaw`SELECT 1`;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}
