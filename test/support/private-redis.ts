/**
 * A Redis server of the test's own, on a spare loopback port, that the test may stop and start again
 * (outages, restarts) without disturbing anyone else's Redis. No persistence: a restart starts empty,
 * as a Redis without AOF/RDB does.
 *
 *   const redis = await startPrivateRedis();
 *   … SWITCHYARD_REDIS_URL: redis.url …
 *   await redis.stop();   // the outage (SIGTERM; resolves once the process has exited)
 *   await redis.start();  // the same port again; resolves once it answers PING
 *   await redis.destroy(); // also done on process exit
 *
 * Needs `redis-server` on the PATH (Debian: apt-get install redis-server), or REDIS_SERVER=<path>.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { eventually } from './eventually.js';

export interface PrivateRedis {
  port: number;
  url: string;
  /** Whether the server process is running. */
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/** A port nothing listens on right now (the OS picks it; closed again before use). */
export async function sparePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function answersPing(port: number): Promise<boolean> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function startPrivateRedis(opts: { port?: number; startTimeoutMs?: number } = {}): Promise<PrivateRedis> {
  const port = opts.port ?? (await sparePort());
  const binary = process.env.REDIS_SERVER ?? 'redis-server';
  let child: ChildProcess | undefined;
  let output = '';

  const kill = () => child?.kill('SIGKILL');
  process.once('exit', kill);

  const start = async () => {
    if (child) return;
    output = '';
    const proc = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout!.on('data', (d) => (output = (output + d).slice(-4000)));
    proc.stderr!.on('data', (d) => (output = (output + d).slice(-4000)));
    proc.once('exit', () => {
      if (child === proc) child = undefined;
    });
    proc.once('error', (err) => (output += `\n${err.message}`));
    try {
      await eventually(async () => child === proc && (await answersPing(port)), `redis-server on port ${port} to answer PING`, opts.startTimeoutMs ?? 10_000, 25);
    } catch (err) {
      proc.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${output}`);
    }
  };

  const stop = async () => {
    const proc = child;
    if (!proc) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    start,
    stop,
    destroy: async () => {
      await stop();
      process.removeListener('exit', kill);
    },
  };
}
