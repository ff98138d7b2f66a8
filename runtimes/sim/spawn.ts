/**
 * Starts a simulator process and resolves once it listens. Used by tests and benchmarks; the gateway
 * never imports it (its local fleet provider runs the simulator as a command). The compiled main.js is
 * resolved next to this file, so it works from dist/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface SpawnSimPodOptions {
  /** Served model name (--model). */
  model: string;
  /** Profile id (--profile), e.g. 'llama-3.1-8b-h100' or 'zero'. */
  profile: string;
  /** Port to listen on; 0 or absent lets the OS choose. */
  port?: number;
  host?: string;
  /** Extra CLI flags, e.g. ['--max-model-len', '4096', '--fault-error-rate', '0.1']. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the listening line (default 30 s). */
  startTimeoutMs?: number;
}

export interface SimPod {
  pid: number;
  port: number;
  baseUrl: string;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after 10 s; resolves when the process is gone. */
  stop(): Promise<void>;
  /** Exit code when the process ends (null when killed by a signal). */
  exited: Promise<number | null>;
}

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const STDERR_TAIL_LINES = 40;

export function spawnSimPod(opts: SpawnSimPodOptions): Promise<SimPod> {
  const host = opts.host ?? '127.0.0.1';
  const args = [MAIN, '--model', opts.model, '--profile', opts.profile, '--port', String(opts.port ?? 0), '--host', host, ...(opts.args ?? [])];
  return spawnSimCommand([process.execPath, ...args], { ...opts, host, name: `${opts.model} (profile ${opts.profile})` });
}

export interface SpawnSimCommandOptions {
  /** The host the command binds, for baseUrl (default 127.0.0.1). */
  host?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
  /** Names the pod in failure messages. */
  name?: string;
}

/**
 * Runs any command line that starts the simulator (a container image's ENTRYPOINT + CMD, say) and
 * resolves once it prints its listening line.
 */
export function spawnSimCommand(argv: string[], opts: SpawnSimCommandOptions = {}): Promise<SimPod> {
  const host = opts.host ?? '127.0.0.1';
  const [command, ...args] = argv;
  if (!command) throw new Error('spawnSimCommand: empty command');
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderrTail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timeoutMs = opts.startTimeoutMs ?? 120_000;
  const name = opts.name ?? argv.join(' ');

  return new Promise<SimPod>((resolve, reject) => {
    let settled = false;
    const describe = () => `${name}${stderrTail.length ? `:\n${stderrTail.join('\n')}` : ''}`;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`sim pod did not start listening within ${timeoutMs} ms: ${describe()}`));
    }, timeoutMs);
    child.once('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`could not start sim pod ${name}: ${err.message}`));
    });
    void exited.then((code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Give the stderr reader a moment to collect the last lines before reporting them.
      setImmediate(() => reject(new Error(`sim pod exited with code ${code} before listening: ${describe()}`)));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (settled) return;
      let msg: { msg?: string; port?: number; pid?: number };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (msg.msg !== 'listening' || typeof msg.port !== 'number') return;
      settled = true;
      clearTimeout(timer);
      const port = msg.port;
      resolve({
        pid: child.pid as number,
        port,
        baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        child,
        exited,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(force);
          }
        },
      });
    });
  });
}
