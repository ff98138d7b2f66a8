// `npm start`: the zero-setup local run. Installs, makes sure PostgreSQL and Redis are up, builds,
// migrates, then starts the gateway with the demo catalogue (config/switchyard.yaml: a local fleet of
// simulated vLLM pods) and prints how to call it. Ctrl-C drains and stops everything.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, build, ensureDatabase, ensureServices, fail, installDependencies, migrate, step } from './lib/setup.mjs';

const env = { ...process.env };
env.SWITCHYARD_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/switchyard';
env.SWITCHYARD_REDIS_URL ??= 'redis://127.0.0.1:6379';
env.SWITCHYARD_CONFIG_FILE ??= path.join(ROOT, 'config', 'switchyard.yaml');
env.SWITCHYARD_PORT ??= '8080';

// Local secrets are generated once per checkout and kept in .switchyard/ (git-ignored, mode 600):
// the key pepper (keys are stored as HMAC-SHA256(pepper, key)), the platform-admin key (registered at
// boot through SWITCHYARD_BOOTSTRAP_API_KEY) and, once the gateway runs, an inference key of a
// "Default" organization created through the admin API.
const stateDir = path.join(ROOT, '.switchyard');
mkdirSync(stateDir, { recursive: true });
function secretFile(name, make) {
  const file = path.join(stateDir, name);
  if (!existsSync(file)) writeFileSync(file, `${make()}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}
env.SWITCHYARD_KEY_PEPPER ??= secretFile('key-pepper', () => randomBytes(32).toString('base64url'));
// (.switchyard/bootstrap-key from earlier checkouts is the same kind of key: keep using it.)
const legacyAdminKey = path.join(stateDir, 'bootstrap-key');
if (!existsSync(path.join(stateDir, 'admin-key')) && existsSync(legacyAdminKey)) renameSync(legacyAdminKey, path.join(stateDir, 'admin-key'));
env.SWITCHYARD_BOOTSTRAP_API_KEY ??= secretFile('admin-key', () => `sk-sy-${randomBytes(32).toString('base64url')}`);

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

const adminKey = env.SWITCHYARD_BOOTSTRAP_API_KEY;
const key = await ensureInferenceKey();

/** Reuses .switchyard/api-key while it works; otherwise makes the Default organization a new one. */
async function ensureInferenceKey() {
  const keyFile = path.join(stateDir, 'api-key');
  if (existsSync(keyFile)) {
    const saved = readFileSync(keyFile, 'utf8').trim();
    const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${saved}` } });
    if (res.ok) return saved;
  }
  const admin = async (method, route, body) => {
    const res = await fetch(`${url}/admin/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) {
      child.kill('SIGTERM');
      fail(`admin API ${method} ${route}: ${res.status} ${json.error?.message}; see ${logFile}`);
    }
    return json;
  };
  const orgFile = path.join(stateDir, 'org-id');
  let orgId = existsSync(orgFile) ? readFileSync(orgFile, 'utf8').trim() : undefined;
  if (orgId) {
    const res = await fetch(`${url}/admin/v1/organizations/${orgId}`, { headers: { authorization: `Bearer ${adminKey}` } });
    if (!res.ok) orgId = undefined;
  }
  if (!orgId) {
    orgId = (await admin('POST', '/organizations', { name: 'Default', tier: 'standard' })).id;
    writeFileSync(orgFile, `${orgId}\n`);
  }
  const created = await admin('POST', `/organizations/${orgId}/keys`, { name: 'quickstart', scopes: ['inference', 'files'] });
  writeFileSync(keyFile, `${created.secret}\n`, { mode: 0o600 });
  return created.secret;
}

process.stdout.write(`
\x1b[32m✓ Switchyard is running at ${url}\x1b[0m

  OpenAI base URL   ${url}/v1
  API key           ${key}   (organization "Default"; kept in .switchyard/api-key)
  Admin key         ${adminKey}   (platform admin; kept in .switchyard/admin-key)
  Admin API         ${url}/admin/v1   docs: ${url}/admin/docs
  Models            ${url}/v1/models   (llama-3.1-8b-instruct, alias fast-small; qwen3-0.6b; text-embedding-small)
  Health / metrics  ${url}/ready   ${url}/metrics

Try it:

  curl ${url}/v1/chat/completions \\
    -H "Authorization: Bearer ${key}" \\
    -H "Content-Type: application/json" \\
    -d '{"model": "fast-small", "messages": [{"role": "user", "content": "Hello!"}], "stream": true}'

Or with the openai SDK:  OPENAI_BASE_URL=${url}/v1 OPENAI_API_KEY=${key} node -e "..."

Make an organization and a key for someone else:

  curl ${url}/admin/v1/organizations -H "Authorization: Bearer ${adminKey}" \\
    -H "Content-Type: application/json" -d '{"name": "Acme", "tier": "premium"}'
  curl ${url}/admin/v1/organizations/<org id>/keys -H "Authorization: Bearer ${adminKey}" \\
    -H "Content-Type: application/json" -d '{"name": "acme-prod", "allowed_models": ["fast-small"]}'

Ctrl-C stops the gateway (in-flight streams drain first).
`);
