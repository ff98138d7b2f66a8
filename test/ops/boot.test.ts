/**
 * A replica that cannot load the limit policies must not serve: it would apply the looser tier
 * defaults to every key and organization a platform admin limited. Start-up fails instead (the
 * orchestrator restarts it). The failure is made real on a private PostgreSQL whose limit_policies
 * table cannot be read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config/index.js';
import { migrateDeploy } from '../../src/database/index.js';
import { startGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { TEST_ADMIN_KEY, TEST_KEY_PEPPER, uniqueSuffix } from '../support/harness.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { zeroReplicaCatalogue } from './support.js';

let postgres: PrivatePostgres;
before(async () => {
  postgres = await startPrivatePostgres();
  await migrateDeploy(postgres.url);
});
after(async () => {
  await postgres?.destroy();
});

describe('start-up', () => {
  it('fails when the limit policies cannot be loaded, instead of serving with the tier defaults', async () => {
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query('ALTER TABLE limit_policies RENAME TO limit_policies_unreadable');
    await client.end();
    const config = loadConfig(
      {
        SWITCHYARD_DATABASE_URL: postgres.url,
        SWITCHYARD_REDIS_URL: process.env.SWITCHYARD_REDIS_URL,
        SWITCHYARD_KEY_PEPPER: TEST_KEY_PEPPER,
        SWITCHYARD_BOOTSTRAP_API_KEY: TEST_ADMIN_KEY,
        SWITCHYARD_PORT: '0',
      },
      zeroReplicaCatalogue(uniqueSuffix()),
    );
    let started: Awaited<ReturnType<typeof startGateway>> | undefined;
    try {
      await assert.rejects(
        (async () => {
          started = await startGateway(config, createLogger('silent'));
        })(),
        /loading limit policies failed/,
      );
    } finally {
      await started?.shutdown();
    }
  });
});
