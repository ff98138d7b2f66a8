/** Child-process and port helpers shared by the benchmarks' runners. */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A child process of a benchmark run: registered before anything can fail, stopped on every exit path. */
export interface Child {
  name: string;
  pid: number;
  stop(): Promise<void>;
}
export const children: Child[] = [];

export function progress(message: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export async function stopAll(): Promise<void> {
  while (children.length) await children.pop()!.stop().catch(() => undefined);
}

/** Sends SIGTERM, waits up to `graceMs` for the exit, then SIGKILL. */
export function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
