/**
 * A redis-server of a test's own on a spare port, so a suite can stop and restart Redis without
 * touching the shared instance. It persists with an append-only file fsynced on every write, so a
 * restart — even after SIGKILL — keeps every counter that was acknowledged, as a production Redis with
 * AOF would: what is lost across a restart is then only what the gateway failed to write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface PrivateRedis {
  port: number;
  url: string;
  readonly pid: number;
  /** Stops the server (SIGTERM: a clean shutdown, or SIGKILL: a crash) and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it for good and removes its data directory. */
  destroy(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500, () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => (socket.destroy(), resolve(data.toString().startsWith('+PONG'))));
  });
}

/** `persist: false` runs without the append-only file (a benchmark's Redis, not restarted). */
export async function startPrivateRedis(opts: { persist?: boolean } = {}): Promise<PrivateRedis> {
  const persistence = opts.persist === false ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always'];
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-redis-'));
  let child: ChildProcess | undefined;
  const exitOf = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => c.once('exit', () => resolve())));

  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const started = child;
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      if (started.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${started.exitCode}`);
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill(signal);
    await exitOf(c);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? -1;
    },
    stop,
    start,
    destroy: async () => {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
