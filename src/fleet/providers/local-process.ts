/**
 * One runtime process on this machine: spawned with a port chosen here, ready when its health path
 * answers 200 (the readiness probe a Deployment would have). Its output is drained and the last lines
 * kept, for the message when it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { ResolvedCommand } from './local-command.js';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LocalProcess {
  readonly pid: number;
  readonly baseUrl: string;
  /** Resolves when the process has ended, however it ended. */
  readonly exited: Promise<ProcessExit>;
  /** The last lines it wrote (stdout and stderr interleaved). */
  outputTail(): string[];
  /** SIGTERM (the runtime drains), SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** The process ended, or could not be started, before it became healthy. */
export class EarlyExitError extends Error {}

const OUTPUT_TAIL_LINES = 40;
const POLL_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 1_000;
const STOP_GRACE_MS = 10_000;

/** Children still running, killed if this process exits without stopping them (a crash, a test runner). */
const running = new Set<ChildProcess>();
let exitHook = false;

export interface StartOptions {
  host: string;
  port: number;
  healthPath: string;
  /** For messages, e.g. "pod chat-0". */
  name: string;
  /** Aborting kills the process if it is not healthy yet (the provider is stopping). */
  signal?: AbortSignal;
}

export async function startLocalProcess(command: ResolvedCommand, opts: StartOptions): Promise<LocalProcess> {
  const child = spawn(command.file, command.args, { env: { ...process.env, ...command.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  const tail: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
    });
  }
  let spawnError: Error | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('error', (err) => {
      // Spawning failed (ENOENT, EACCES): no 'exit' follows.
      spawnError = err;
      running.delete(child);
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  let ended = false;
  void exited.then(() => (ended = true));

  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const baseUrl = `http://${host}:${opts.port}`;
  const stop = async (graceMs = STOP_GRACE_MS) => {
    if (ended) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(force);
  };
  const describe = () => (tail.length ? `:\n${tail.join('\n')}` : '');

  const deadline = Date.now() + command.startTimeoutMs;
  for (;;) {
    if (ended) {
      // Let the output readers take the last lines before reporting them.
      await new Promise((resolve) => setImmediate(resolve));
      const { code, signal } = await exited;
      if (spawnError) throw new EarlyExitError(`${opts.name}: could not run ${command.file}: ${spawnError.message}`);
      throw new EarlyExitError(`${opts.name} exited (${signal ?? `code ${code}`}) before it was healthy${describe()}`);
    }
    if (opts.signal?.aborted) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${opts.name}: start cancelled`);
    }
    if (await healthy(baseUrl + opts.healthPath)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${opts.name} was not healthy at ${baseUrl}${opts.healthPath} within ${command.startTimeoutMs} ms${describe()}`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
  return { pid: child.pid!, baseUrl, exited, outputTail: () => [...tail], stop };
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await request(url, { method: 'GET', headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS, reset: true });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false; // not listening yet
  }
}

/**
 * A port free on `host` right now. Another process may take it before the runtime binds it; the runtime
 * then exits at once and the provider starts it again on another port.
 */
export async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
