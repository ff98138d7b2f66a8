/**
 * Demand shared between the gateway replicas through Redis: each replica writes, every interval, what
 * it holds for each autoscaled pool (waiting per class, in flight, its TTFT p90); the leader sums the
 * entries that are fresh. One hash per pool (`<prefix>:demand:<pool>`, field = replica id), so a
 * replica that dies stops being counted once its entry is older than `maxAgeMs` (and is then deleted);
 * the key itself expires when every replica is gone.
 */
import type { Redis } from 'ioredis';

export interface ReplicaDemand {
  interactive: number;
  flex: number;
  batch: number;
  inFlight: number;
  /** This replica's pod-side TTFT p90 over its last interval; null without streams. */
  ttftP90Ms: number | null;
}

interface Entry extends ReplicaDemand {
  at: number;
}

export class DemandBoard {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(pool: string): string {
    return `${this.prefix}:demand:${pool}`;
  }

  /** Writes this replica's demand for each pool (one round trip). `wallNow`: epoch ms. */
  async publish(replicaId: string, demand: ReadonlyMap<string, ReplicaDemand>, wallNow: number, maxAgeMs: number): Promise<void> {
    const multi = this.redis.multi();
    for (const [pool, d] of demand) {
      const entry: Entry = { ...d, at: wallNow };
      multi.hset(this.key(pool), replicaId, JSON.stringify(entry));
      multi.pexpire(this.key(pool), maxAgeMs * 2);
    }
    await multi.exec();
  }

  /** The sum over replicas whose entry is at most `maxAgeMs` old (TTFT: the worst replica's p90). */
  async total(pool: string, wallNow: number, maxAgeMs: number): Promise<ReplicaDemand & { replicas: number }> {
    const entries = await this.redis.hgetall(this.key(pool));
    const sum: ReplicaDemand & { replicas: number } = { interactive: 0, flex: 0, batch: 0, inFlight: 0, ttftP90Ms: null, replicas: 0 };
    const stale: string[] = [];
    for (const [replica, raw] of Object.entries(entries)) {
      const e = JSON.parse(raw) as Entry;
      if (wallNow - e.at > maxAgeMs) {
        stale.push(replica);
        continue;
      }
      sum.interactive += e.interactive;
      sum.flex += e.flex;
      sum.batch += e.batch;
      sum.inFlight += e.inFlight;
      if (e.ttftP90Ms !== null) sum.ttftP90Ms = Math.max(sum.ttftP90Ms ?? 0, e.ttftP90Ms);
      sum.replicas += 1;
    }
    if (stale.length > 0) await this.redis.hdel(this.key(pool), ...stale);
    return sum;
  }
}
