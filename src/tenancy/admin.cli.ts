/**
 * switchyard-admin: the first platform-admin key on a fresh install, without putting a secret in the
 * environment.
 *
 *   node dist/src/tenancy/admin.cli.js create-platform-key [--name <name>]
 *
 * Needs SWITCHYARD_DATABASE_URL and SWITCHYARD_KEY_PEPPER (the gateway's). Prints the key alone on
 * stdout; it is shown only this once.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ApiKeyHasher } from './api-key.hasher.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { PrismaService } from '../database/index.js';
import { ApiKeyRepository } from './api-key.repository.js';
import { OrganizationRepository } from './organization.repository.js';
import { createPlatformKey } from './tenancy.bootstrap.js';

const USAGE = 'usage: switchyard-admin create-platform-key [--name <name>]';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { name: { type: 'string', default: 'platform admin' }, help: { type: 'boolean' } } });
  if (values.help || positionals[0] !== 'create-platform-key' || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 64;
  }
  let config;
  try {
    // The CLI needs no model catalogue.
    config = loadConfig(undefined, { pools: [], models: [] });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchyard-admin: invalid configuration: ${err.message}\n`);
      return 78;
    }
    throw err;
  }
  const prisma = new PrismaService(config);
  try {
    const { key, secret } = await createPlatformKey(new OrganizationRepository(prisma), new ApiKeyRepository(prisma), new ApiKeyHasher(config), values.name!);
    process.stderr.write(`created platform-admin key ${key.id} (${key.prefix}…) in the system organization; it is shown only once:\n`);
    process.stdout.write(`${secret}\n`);
    return 0;
  } finally {
    await prisma.$disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`switchyard-admin: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
