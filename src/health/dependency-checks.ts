/**
 * /ready's dependency checks, cached for SWITCHYARD_READY_CHECK_TTL_MS and single-flight: however many
 * probes arrive, PostgreSQL and Redis see at most one check per TTL from this replica.
 */
export interface CheckResult {
  status: 'ok' | 'fail';
  detail?: string;
}

const CHECK_TIMEOUT_MS = 1_000;

async function run(fn: () => Promise<unknown>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
    ]);
    return { status: 'ok' };
  } catch (err) {
    return { status: 'fail', detail: (err as Error).message.replace(/\s+/g, ' ').trim().slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

export class CachedCheck {
  private last?: { at: number; result: CheckResult };
  private inFlight?: Promise<CheckResult>;

  constructor(
    private readonly fn: () => Promise<unknown>,
    private readonly ttlMs: number,
    /** Called once per check actually run (a metric). */
    private readonly onRun: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(): Promise<CheckResult> {
    if (this.last && this.now() - this.last.at < this.ttlMs) return Promise.resolve(this.last.result);
    return (this.inFlight ??= (async () => {
      this.onRun();
      try {
        const result = await run(this.fn);
        this.last = { at: this.now(), result };
        return result;
      } finally {
        this.inFlight = undefined;
      }
    })());
  }
}
