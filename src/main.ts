/** Process entry: validate config, start the gateway, drain on SIGTERM/SIGINT. */
import { ConfigError, loadConfig, maskProcessSecrets } from './config/index.js';
import { migrateDeploy } from './database/index.js';
import { startGateway } from './gateway.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchyard: invalid configuration: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  if (config.migrateOnStart) await migrateDeploy(config.databaseUrl);
  const gateway = await startGateway(config);
  gateway.logger.info({ url: gateway.url }, 'switchyard listening');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      gateway.logger.info({ signal }, 'draining and shutting down');
      gateway.shutdown().then(
        () => process.exit(0),
        (err) => {
          gateway.logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err) => {
  // Whatever failed (a driver, the migration CLI), its message never carries a secret setting's value
  // or the password inside a database or Redis URL.
  process.stderr.write(`switchyard: failed to start: ${maskProcessSecrets(err instanceof Error ? err.message : String(err))}\n`);
  process.exit(1);
});
