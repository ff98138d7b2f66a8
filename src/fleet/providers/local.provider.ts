/**
 * The local provider: runs each replica of a pool as a process on this machine, as a Deployment would
 * run pods. A replica is reported once its health check answers 200; when its process dies it is
 * reported gone and started again after a back-off (1 s, doubling up to 30 s while it keeps failing
 * within 10 s of becoming ready). Scaling down drains the highest-numbered replicas (SIGTERM: the
 * runtime finishes what it has) and reports them `draining` until they exit.
 *
 * The command is the pool's `local.command` or, for `sim:` pools, the simulator (local-command.ts).
 */
import type { Logger } from 'pino';
import { adapterFor } from '../../runtimes/index.js';
import type { FleetPool, FleetProvider, PodEndpoint, PodListListener, WorkloadReplicas } from '../fleet-provider.js';
import { podCommand, resolveCommand } from './local-command.js';
import { EarlyExitError, freePort, startLocalProcess, type LocalProcess, type ProcessExit } from './local-process.js';

const HOST = '127.0.0.1';
/** Attempts when a process dies before it is healthy, e.g. its port was taken before it bound it. */
const START_ATTEMPTS = 3;
const RESTART_BASE_MS = 1_000;
const RESTART_MAX_MS = 30_000;
/** A replica that was ready this long before it died starts its back-off afresh. */
const STABLE_AFTER_MS = 10_000;

interface Replica {
  readonly index: number;
  readonly id: string;
  process?: LocalProcess;
  draining: boolean;
  /** Consecutive failures (exits soon after ready, failed starts): the back-off exponent. */
  failures: number;
  readyAt?: number;
  restartTimer?: NodeJS.Timeout;
}

interface PoolState {
  readonly pool: FleetPool;
  desired: number;
  readonly replicas: Map<number, Replica>;
}

export class LocalFleetProvider implements FleetProvider {
  readonly kind = 'local' as const;
  private readonly logger: Logger;
  private readonly listeners: PodListListener[] = [];
  private readonly pools = new Map<string, PoolState>();
  /** Launches under way; `stop` cancels them through `cancel`. */
  private readonly launching = new Set<Promise<void>>();
  private readonly cancel = new AbortController();
  private stopping = false;

  constructor(logger: Logger) {
    this.logger = logger.child({ component: 'fleet', provider: 'local' });
  }

  onChange(listener: PodListListener): void {
    this.listeners.push(listener);
  }

  async start(pools: readonly FleetPool[]): Promise<void> {
    for (const pool of pools) {
      podCommand(pool); // fails now, not at the first replica, when the pool has no command
      this.pools.set(pool.name, { pool, desired: pool.replicas, replicas: new Map() });
    }
    const launches = await Promise.allSettled(
      [...this.pools.values()].flatMap((state) => Array.from({ length: state.desired }, (_, i) => this.launch(state, this.replica(state, i), START_ATTEMPTS))),
    );
    const failed = launches.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (failed) {
      // Fail the boot with nothing left running.
      await this.stop();
      throw failed.reason;
    }
  }

  async scale(pool: string, replicas: number): Promise<void> {
    const state = this.pools.get(pool);
    if (!state) throw new Error(`pool ${pool} is not run by the local provider`);
    if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`replicas must be a whole number ≥ 0, got ${replicas}`);
    const from = state.desired;
    state.desired = replicas;
    this.logger.info({ pool, from, to: replicas }, 'scaling pool');
    for (let i = 0; i < replicas; i++) {
      if (state.replicas.has(i)) continue;
      const replica = this.replica(state, i);
      this.launch(state, replica, 1).catch((err: Error) => this.retryLater(state, replica, err));
    }
    for (const replica of state.replicas.values()) {
      if (replica.index < replicas) continue;
      clearTimeout(replica.restartTimer);
      if (!replica.process) {
        state.replicas.delete(replica.index);
        continue;
      }
      if (replica.draining) continue;
      replica.draining = true;
      this.logger.info({ pool, pod: replica.id, podPid: replica.process.pid }, 'draining pod');
      void replica.process.stop();
    }
    this.emit(state);
  }

  async replicas(pool: string): Promise<WorkloadReplicas | undefined> {
    const state = this.pools.get(pool);
    if (!state) return undefined;
    const running = [...state.replicas.values()].filter((r) => r.process);
    return { desired: state.desired, current: running.length, ready: running.filter((r) => !r.draining).length };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.cancel.abort();
    await Promise.allSettled([...this.launching]);
    const processes: LocalProcess[] = [];
    for (const state of this.pools.values()) {
      for (const replica of state.replicas.values()) {
        clearTimeout(replica.restartTimer);
        if (replica.process) processes.push(replica.process);
      }
    }
    await Promise.all(processes.map((p) => p.stop()));
  }

  private replica(state: PoolState, index: number): Replica {
    let replica = state.replicas.get(index);
    if (!replica) {
      replica = { index, id: `${state.pool.name}-${index}`, draining: false, failures: 0 };
      state.replicas.set(index, replica);
    }
    return replica;
  }

  /** Starts the replica's process (trying again on another port if it dies before it is healthy). */
  private launch(state: PoolState, replica: Replica, attempts: number): Promise<void> {
    const launch = this.run(state, replica, attempts);
    this.launching.add(launch);
    const done = () => this.launching.delete(launch);
    launch.then(done, done);
    return launch;
  }

  private async run(state: PoolState, replica: Replica, attempts: number): Promise<void> {
    const { pool } = state;
    const template = podCommand(pool);
    const healthPath = adapterFor(pool.runtime).healthPath;
    let proc: LocalProcess | undefined;
    for (let attempt = 1; !proc; attempt++) {
      const port = await freePort(HOST);
      const command = resolveCommand(template, { port, host: HOST, model: pool.servedModel });
      try {
        proc = await startLocalProcess(command, { host: HOST, port, healthPath, name: `pod ${replica.id}`, signal: this.cancel.signal });
      } catch (err) {
        if (!(err instanceof EarlyExitError) || attempt >= attempts || this.stopping) throw err;
        this.logger.warn({ pool: pool.name, pod: replica.id, attempt, err: (err as Error).message }, 'pod exited before it was healthy; starting it again');
      }
    }
    const current = state.replicas.get(replica.index) === replica;
    if (this.stopping || !current || replica.index >= state.desired) {
      // Stopped, or scaled down (and perhaps up again, with a new replica) while it was starting.
      await proc.stop();
      if (current && replica.index >= state.desired) state.replicas.delete(replica.index);
      return;
    }
    replica.process = proc;
    replica.readyAt = Date.now();
    this.logger.info({ pool: pool.name, pod: replica.id, url: proc.baseUrl, podPid: proc.pid }, 'pod ready');
    this.emit(state);
    const started = proc;
    void started.exited.then((exit) => this.exited(state, replica, started, exit));
  }

  private exited(state: PoolState, replica: Replica, proc: LocalProcess, exit: ProcessExit): void {
    if (replica.process !== proc) return;
    replica.process = undefined;
    const fields = { pool: state.pool.name, pod: replica.id, podPid: proc.pid, code: exit.code, signal: exit.signal };
    if (this.stopping || replica.index >= state.desired) {
      state.replicas.delete(replica.index);
      this.emit(state);
      if (!this.stopping) this.logger.info(fields, 'pod stopped');
      return;
    }
    this.emit(state);
    if (replica.draining) {
      // Drained for a scale-down that was undone before it finished: start it again at once.
      replica.draining = false;
      this.logger.info(fields, 'pod stopped; the pool was scaled up again, starting it');
      this.scheduleRestart(state, replica, 0);
      return;
    }
    const ranMs = Date.now() - (replica.readyAt ?? Date.now());
    replica.failures = ranMs >= STABLE_AFTER_MS ? 0 : replica.failures + 1;
    const restartInMs = this.backoff(replica);
    this.logger.warn({ ...fields, ranMs, restartInMs, output: proc.outputTail().slice(-10) }, 'pod exited; restarting');
    this.scheduleRestart(state, replica, restartInMs);
  }

  private retryLater(state: PoolState, replica: Replica, err: Error): void {
    if (this.stopping || replica.index >= state.desired) return;
    replica.failures++;
    const restartInMs = this.backoff(replica);
    this.logger.error({ pool: state.pool.name, pod: replica.id, restartInMs, err: err.message }, 'pod failed to start');
    this.scheduleRestart(state, replica, restartInMs);
  }

  private scheduleRestart(state: PoolState, replica: Replica, delayMs: number): void {
    replica.restartTimer = setTimeout(() => {
      replica.restartTimer = undefined;
      if (this.stopping || replica.index >= state.desired) return;
      this.launch(state, replica, 1).catch((err: Error) => this.retryLater(state, replica, err));
    }, delayMs);
    replica.restartTimer.unref();
  }

  private backoff(replica: Replica): number {
    return Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** Math.max(0, replica.failures - 1));
  }

  private emit(state: PoolState): void {
    const pods: PodEndpoint[] = [];
    for (const replica of [...state.replicas.values()].sort((a, b) => a.index - b.index)) {
      if (replica.process) pods.push({ id: replica.id, baseUrl: replica.process.baseUrl, phase: replica.draining ? 'draining' : 'ready' });
    }
    for (const listener of this.listeners) listener(state.pool.name, pods);
  }
}
