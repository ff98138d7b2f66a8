// `npm start`: the zero-setup local run. Installs, makes sure PostgreSQL and Redis are up, builds,
// migrates, then starts the gateway with the demo catalogue (config/switchyard.yaml: a local fleet of
// simulated vLLM pods) and prints how to call it. Ctrl-C drains and stops everything.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, build, ensureDatabase, ensureServices, fail, installDependencies, migrate, step } from './lib/setup.mjs';

const env = { ...process.env };
env.SWITCHYARD_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/switchyard';
env.SWITCHYARD_REDIS_URL ??= 'redis://127.0.0.1:6379';
env.SWITCHYARD_CONFIG_FILE ??= path.join(ROOT, 'config', 'switchyard.yaml');
env.SWITCHYARD_PORT ??= '8080';

// The bootstrap key is generated once per checkout and kept in .switchyard/ (git-ignored).
const stateDir = path.join(ROOT, '.switchyard');
mkdirSync(stateDir, { recursive: true });
const keyFile = path.join(stateDir, 'bootstrap-key');
if (!env.SWITCHYARD_BOOTSTRAP_API_KEY) {
  if (!existsSync(keyFile)) writeFileSync(keyFile, `sk-sy-${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  env.SWITCHYARD_BOOTSTRAP_API_KEY = readFileSync(keyFile, 'utf8').trim();
}

installDependencies();
await ensureServices(env.SWITCHYARD_DATABASE_URL, env.SWITCHYARD_REDIS_URL);
await ensureDatabase(env.SWITCHYARD_DATABASE_URL);
build(env.SWITCHYARD_DATABASE_URL);
migrate(env.SWITCHYARD_DATABASE_URL);

const logFile = path.join(stateDir, 'gateway.log');
step(`starting the gateway and its simulated fleet (logs: ${path.relative(process.cwd(), logFile)})`);
const log = openSync(logFile, 'a');
const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], { env, stdio: ['ignore', log, log] });
const url = `http://127.0.0.1:${env.SWITCHYARD_PORT}`;

let exited = false;
child.on('exit', (code) => {
  exited = true;
  if (code !== 0) fail(`the gateway exited with code ${code}; see ${logFile}`);
  process.exit(0);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill('SIGTERM'));

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
for (let i = 0; !exited; i++) {
  try {
    const res = await fetch(`${url}/ready`);
    if (res.ok) break;
  } catch {
    /* not listening yet */
  }
  if (i > 600) fail(`the gateway did not become ready in 60 s; see ${logFile}`);
  if (process.stdout.isTTY) process.stdout.write(`\r${frames[i % frames.length]} waiting for the gateway to be ready`);
  await new Promise((r) => setTimeout(r, 100));
}
if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');

const key = env.SWITCHYARD_BOOTSTRAP_API_KEY;
process.stdout.write(`
\x1b[32m✓ Switchyard is running at ${url}\x1b[0m

  OpenAI base URL   ${url}/v1
  API key           ${key}
  Models            ${url}/v1/models   (llama-3.1-8b-instruct, alias fast-small; qwen3-0.6b; text-embedding-small)
  Health / metrics  ${url}/ready   ${url}/metrics

Try it:

  curl ${url}/v1/chat/completions \\
    -H "Authorization: Bearer ${key}" \\
    -H "Content-Type: application/json" \\
    -d '{"model": "fast-small", "messages": [{"role": "user", "content": "Hello!"}], "stream": true}'

Or with the openai SDK:  OPENAI_BASE_URL=${url}/v1 OPENAI_API_KEY=${key} node -e "..."

Ctrl-C stops the gateway (in-flight streams drain first).
`);
