/**
 * A gateway replica as its own process (`node dist/src/main.js`), for tests that must kill one
 * (SIGKILL leaves no chance to clean up, which an in-process gateway cannot show). Same settings as
 * the in-process harness (shared pepper and admin key, no per-IP throttle); the catalogue is written
 * to a temporary file. Organizations and keys are made over the admin API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { TEST_ADMIN_KEY, TEST_KEY_PEPPER } from './harness.js';
import { freePort } from './private-redis.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main.js');

export interface GatewayProcess {
  pid: number;
  url: string;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** SIGTERM (drain) and wait; SIGKILL after 15 s. */
  stop(): Promise<void>;
  /** The last lines it logged (warn and above), for failure messages. */
  logTail(): string;
}

/** `catalogue` is the file form (pools, models, tiers) that SWITCHYARD_CONFIG_FILE takes. */
export async function spawnGateway(catalogue: object, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-gw-'));
  const file = path.join(dir, 'catalogue.json');
  writeFileSync(file, JSON.stringify(catalogue));
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      SWITCHYARD_CONFIG_FILE: file,
      SWITCHYARD_PORT: String(port),
      SWITCHYARD_HOST: '127.0.0.1',
      SWITCHYARD_KEY_PEPPER: TEST_KEY_PEPPER,
      SWITCHYARD_BOOTSTRAP_API_KEY: TEST_ADMIN_KEY,
      SWITCHYARD_MIGRATE_ON_START: 'false',
      SWITCHYARD_LOG_LEVEL: 'warn',
      SWITCHYARD_IP_REQUESTS_PER_MINUTE: '0',
      SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE: '0',
      SWITCHYARD_SHUTDOWN_GRACE_MS: '10000',
      ...env,
    },
  });
  const tail: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => rmSync(dir, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with code ${child.exitCode} during start-up:\n${tail.join('\n')}`);
    const ready = await fetch(`${url}/ready`).then((r) => r.status === 200, () => false);
    if (ready) break;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway not ready within 90 s:\n${tail.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    url,
    child,
    exited,
    logTail: () => tail.join('\n'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(force);
    },
  };
}

/** A fresh organization and inference key, made by the platform admin over the admin API. */
export async function createTenantOverApi(url: string, tier = 'enterprise'): Promise<{ orgId: string; apiKey: string }> {
  const post = async (pathname: string, body: unknown) => {
    const res = await fetch(`${url}${pathname}`, { method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`${pathname}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const org = await post('/admin/v1/organizations', { name: `fault test ${Math.random().toString(36).slice(2, 8)}`, tier });
  const key = await post(`/admin/v1/organizations/${org.id}/keys`, { name: 'fault test', scopes: ['inference'] });
  return { orgId: String(org.id), apiKey: String(key.secret) };
}
