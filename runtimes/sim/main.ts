/**
 * Entry point of a simulated vLLM pod:
 *   node dist/runtimes/sim/main.js --model <served name> --profile <id> [--port 0] [...]
 * Prints exactly one JSON line on stdout once listening:
 *   {"msg":"listening","port":<port>,"model":"<name>","pid":<pid>}
 * Everything else (start-up notes, errors) goes to stderr. SIGTERM/SIGINT: stop accepting, let
 * in-flight requests finish for up to --shutdown-grace-ms, exit 0.
 */
import type { AddressInfo } from 'node:net';
import { ConfigError, parseSimArgs, type SimConfig } from './config.js';
import { createContext } from './context.js';
import { createSimServer } from './server.js';

async function main(): Promise<void> {
  let config: SimConfig;
  try {
    config = parseSimArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const ctx = createContext(config);
  // Model loading time (fault injection): the port is not open until it has passed, as with vLLM.
  if (config.faults.slowStartMs > 0) await new Promise((r) => setTimeout(r, config.faults.slowStartMs));

  const server = createSimServer(ctx);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port, model: config.model, pid: process.pid })}\n`);
  process.stderr.write(
    `sim: ${config.model} on ${config.host}:${port}, profile ${config.profile.id}, tokenizer ${config.tokenizer}, ` +
      `max_model_len ${config.maxModelLen}, KV ${ctx.engine.kv.numBlocks} blocks, max_num_seqs ${config.maxNumSeqs}, ` +
      `max_num_batched_tokens ${config.maxNumBatchedTokens}\n`,
  );

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => process.exit(0));
    // Keep-alive connections become idle as their last response ends; close them as they do.
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 20).unref();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, config.shutdownGraceMs).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`sim: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
