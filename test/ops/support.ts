/**
 * A gateway on private PostgreSQL and Redis instances (test/support/private-*.ts) that the ops suites
 * stop and start, with its log lines captured and a simulator pod (profile `zero`) behind a static pool.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { pino } from 'pino';
import { spawnSimPod, type SimPod } from '../../runtimes/sim/spawn.js';
import { loadConfig, parseCatalogue, type CatalogueConfig } from '../../src/config/index.js';
import { migrateDeploy } from '../../src/database/index.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { SYSTEM_ACTOR } from '../../src/tenancy/actor.js';
import { ApiKeyService } from '../../src/tenancy/api-key.service.js';
import { OrganizationService } from '../../src/tenancy/organization.service.js';
import { TEST_ADMIN_KEY, TEST_KEY_PEPPER } from '../support/harness.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface OpsGateway {
  gateway: Gateway;
  url: string;
  model: string;
  apiKey: string;
  client: OpenAI;
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  lines: LogLine[];
  get(path: string, key?: string): Promise<{ status: number; headers: Headers; body: any; text: string }>;
  close(): Promise<void>;
}

/** Captured pino output, parsed. */
export function logSink(): { lines: LogLine[]; logger: pino.Logger } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

export function zeroReplicaCatalogue(suffix: string): CatalogueConfig {
  return parseCatalogue(
    {
      pools: [{ name: `zero-${suffix}`, runtime: 'sim', provider: 'local', servedModel: 'meta-llama/Llama-3.2-1B-Instruct', replicas: 0, sim: { profile: 'zero' } }],
      models: [{ name: `z-${suffix}`, pool: `zero-${suffix}`, contextWindow: 4096, tokenizer: 'llama3' }],
    },
    'zero-replica catalogue',
  );
}

export async function bootOpsGateway(env: Record<string, string> = {}): Promise<OpsGateway> {
  const suffix = randomBytes(3).toString('hex');
  const [postgres, redis, pod] = await Promise.all([startPrivatePostgres(), startPrivateRedis(), spawnSimPod({ model: 'meta-llama/Llama-3.2-1B-Instruct', profile: 'zero' })]);
  let gateway: Gateway | undefined;
  try {
    await migrateDeploy(postgres.url);
    const catalogue = parseCatalogue(
      {
        pools: [{ name: `ops-${suffix}`, runtime: 'sim', provider: 'static', servedModel: 'meta-llama/Llama-3.2-1B-Instruct', endpoints: [pod.baseUrl] }],
        models: [{ name: `m-${suffix}`, pool: `ops-${suffix}`, contextWindow: 4096, tokenizer: 'llama3' }],
      },
      'ops catalogue',
    );
    const config = loadConfig(
      {
        SWITCHYARD_DATABASE_URL: postgres.url,
        SWITCHYARD_REDIS_URL: redis.url,
        SWITCHYARD_KEY_PEPPER: TEST_KEY_PEPPER,
        SWITCHYARD_BOOTSTRAP_API_KEY: TEST_ADMIN_KEY,
        SWITCHYARD_PORT: '0',
        SWITCHYARD_SHUTDOWN_GRACE_MS: '5000',
        ...env,
      },
      catalogue,
    );
    const { lines, logger } = logSink();
    gateway = await startGateway(config, logger);
    const org = await gateway.app.get(OrganizationService).create(SYSTEM_ACTOR, { name: `ops ${suffix}` });
    const { secret } = await gateway.app.get(ApiKeyService).create(SYSTEM_ACTOR, org.id, { name: 'ops key' });
    const url = gateway.url;
    const g = gateway;
    return {
      gateway,
      url,
      model: `m-${suffix}`,
      apiKey: secret,
      client: new OpenAI({ baseURL: `${url}/v1`, apiKey: secret, maxRetries: 0, timeout: 20_000 }),
      postgres,
      redis,
      lines,
      get: async (path, key) => {
        const res = await fetch(`${url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
        const text = await res.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        return { status: res.status, headers: res.headers, body, text };
      },
      close: async () => {
        await g.shutdown();
        await Promise.all([postgres.destroy(), redis.destroy(), pod.stop()]);
      },
    };
  } catch (err) {
    await gateway?.shutdown().catch(() => undefined);
    await Promise.all([postgres.destroy(), redis.destroy(), (pod as SimPod).stop()]);
    throw err;
  }
}
