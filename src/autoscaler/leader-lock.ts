/**
 * One active autoscaler among the gateway replicas: a lease in Redis with a fencing token.
 *
 * Chosen over a Kubernetes Lease because every deployment of the gateway has Redis (quotas live there)
 * while only `kubernetes` pools have an API server, and a local or mixed fleet needs a leader too.
 *
 * The lease is one key, `<prefix>:leader` = `<holder id>:<token>`, with a TTL; the token comes from
 * INCR on `<prefix>:fence`, so every new holder has a larger one. Acquire-or-renew is one script; the
 * holder renews every `ttlMs / 3`. Locally the holder counts itself leader only until the last
 * successful renewal + ttlMs − renewMs, so it stops acting before Redis can hand the lease to another
 * replica (a paused or partitioned holder never overlaps a new one by its own reckoning). A replica
 * that dies leaves the key to expire: another one takes over within ttlMs + renewMs.
 *
 * `stillHolds()` re-reads the key (holder and token) right before a write: a holder that lost the
 * lease without noticing (its renewal answer lost) learns it there. The Kubernetes write itself
 * carries no token — the API server has no notion of one — so the remaining overlap is one write
 * racing one renewal period, and writes are idempotent replica counts.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock/index.js';

// KEYS: lease, fence. ARGV: holder id, ttl ms. Returns the holder's token, or 0 when another holds it.
const ACQUIRE = `
local v = redis.call('GET', KEYS[1])
if not v then
  local t = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. t, 'PX', ARGV[2])
  return t
end
local prefix = ARGV[1] .. ':'
if string.sub(v, 1, #prefix) == prefix then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(string.sub(v, #prefix + 1))
end
return 0`;

// KEYS: lease. ARGV: holder:token. Deletes the lease only if it is still ours.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface LeaderLockOptions {
  /** Key prefix, e.g. `switchyard:autoscaler`. */
  prefix: string;
  /** This replica's id (unique per process). */
  holderId: string;
  ttlMs: number;
}

export type LeadershipListener = (leader: boolean, token: number) => void;

export class LeaderLock {
  private token = 0;
  private validUntil = -Infinity;
  private timer: TimerHandle | undefined;
  private running = false;
  private readonly listeners: LeadershipListener[] = [];
  private readonly renewMs: number;
  private wasLeader = false;

  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: LeaderLockOptions,
  ) {
    this.renewMs = Math.max(1, Math.floor(options.ttlMs / 3));
  }

  get leaseKey(): string {
    return `${this.options.prefix}:leader`;
  }

  /** True while this replica holds the lease by its own (conservative) reckoning. */
  isLeader(): boolean {
    return this.token > 0 && this.clock.now() < this.validUntil;
  }

  /** The fencing token of the current tenure (0 when not leader); larger for every later holder. */
  fencingToken(): number {
    return this.isLeader() ? this.token : 0;
  }

  onChange(listener: LeadershipListener): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.attempt();
  }

  /** Stops renewing and gives the lease up, so another replica takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    const held = this.token;
    this.token = 0;
    this.notify();
    if (held > 0) await this.redis.eval(RELEASE, 1, this.leaseKey, `${this.options.holderId}:${held}`).catch(() => undefined);
  }

  /** Re-reads the lease: true only if it still names this holder and token. */
  async stillHolds(): Promise<boolean> {
    if (!this.isLeader()) return false;
    try {
      return (await this.redis.get(this.leaseKey)) === `${this.options.holderId}:${this.token}`;
    } catch {
      return false;
    }
  }

  private async attempt(): Promise<void> {
    const started = this.clock.now();
    try {
      const token = Number(await this.redis.eval(ACQUIRE, 2, this.leaseKey, `${this.options.prefix}:fence`, this.options.holderId, this.options.ttlMs));
      if (token > 0) {
        // Counted from when the request was sent: the key's TTL started no earlier than that.
        this.validUntil = started + this.options.ttlMs - this.renewMs;
        if (token !== this.token) this.logger.info({ holder: this.options.holderId, token }, 'autoscaler leadership acquired');
      } else if (this.token > 0) {
        this.logger.warn({ holder: this.options.holderId, token: this.token }, 'autoscaler leadership lost to another replica');
      }
      this.token = token;
    } catch (err) {
      // Redis away: keep the tenure until its local expiry, then step down (isLeader() turns false).
      this.logger.warn({ holder: this.options.holderId, err: (err as Error).message }, 'autoscaler lease renewal failed');
    }
    this.notify();
    if (this.running) this.timer = this.clock.setTimeout(() => void this.attempt(), this.renewMs, { unref: true });
  }

  private notify(): void {
    const leader = this.isLeader();
    if (leader === this.wasLeader) return;
    this.wasLeader = leader;
    for (const listener of this.listeners) listener(leader, this.token);
  }
}
