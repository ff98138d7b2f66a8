/** The quota scripts on Redis, one round trip each. */
import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisService } from '../redis/index.js';
import { ADMIT_SCRIPT, RENEW_SCRIPT, SETTLE_SCRIPT } from './quota.scripts.js';

export interface ScopeLimits {
  /** Key prefix, e.g. {o:<org>}:key:<key id>; all of an org's prefixes share the {o:<org>} hash tag. */
  prefix: string;
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  /** Hard spend budgets in micro-units of currency. */
  dayMicros: number | null;
  monthMicros: number | null;
}

export interface AdmitRequest {
  now: number;
  windowMs: number;
  id: string;
  tokens: number;
  costMicros: number;
  leaseExpiry: number;
  day: string;
  month: string;
  scopes: ScopeLimits[];
}

export type AdmitKind = 'rpm' | 'tpm' | 'tpm_too_large' | 'concurrency' | 'spend_day' | 'spend_month';

export type AdmitResult =
  | { admitted: true; remaining: Array<{ requests: number; tokens: number }> }
  | { admitted: false; scope: number; kind: AdmitKind; limit: number; resetMs: number };

interface QuotaCommands {
  quotaAdmit(...args: Array<string | number>): Promise<Array<number | string>>;
  quotaSettle(...args: Array<string | number>): Promise<number[]>;
  quotaRenew(...args: Array<string | number>): Promise<number>;
}

const n = (v: number | null) => (v === null ? -1 : v);

@Injectable()
export class QuotaStore {
  private readonly redis: Redis & QuotaCommands;
  private pendingSettles: Array<{ args: Array<string | number>; resolve(totals: Array<[number, number]>): void; reject(err: Error): void }> = [];

  constructor(redis: RedisService) {
    const client = redis.client as Redis & QuotaCommands;
    client.defineCommand('quotaAdmit', { numberOfKeys: 0, lua: ADMIT_SCRIPT });
    client.defineCommand('quotaSettle', { numberOfKeys: 0, lua: SETTLE_SCRIPT });
    client.defineCommand('quotaRenew', { numberOfKeys: 0, lua: RENEW_SCRIPT });
    this.redis = client;
  }

  async admit(r: AdmitRequest): Promise<AdmitResult> {
    const args: Array<string | number> = [r.now, r.windowMs, r.id, r.tokens, r.costMicros, r.leaseExpiry, r.day, r.month, r.scopes.length];
    for (const s of r.scopes) args.push(s.prefix, n(s.rpm), n(s.tpm), n(s.concurrency), n(s.dayMicros), n(s.monthMicros));
    const reply = await this.redis.quotaAdmit(...args);
    if (reply[0] === 1) {
      const remaining: Array<{ requests: number; tokens: number }> = [];
      for (let i = 1; i < reply.length; i += 2) remaining.push({ requests: Number(reply[i]), tokens: Number(reply[i + 1]) });
      return { admitted: true, remaining };
    }
    return { admitted: false, scope: Number(reply[1]) - 1, kind: reply[2] as AdmitKind, limit: Number(reply[3]), resetMs: Math.max(0, Number(reply[4])) };
  }

  /**
   * Returns each scope's spend totals [day, month] after reconciliation. Settles are off the request
   * path, so those issued in the same event-loop turn go out as one pipeline (one write, one read).
   */
  settle(id: string, reservedTokens: number, actualTokens: number, costDeltaMicros: number, day: string, month: string, prefixes: string[]): Promise<Array<[number, number]>> {
    return new Promise((resolve, reject) => {
      this.pendingSettles.push({ args: [id, reservedTokens, actualTokens, costDeltaMicros, day, month, ...prefixes], resolve, reject });
      if (this.pendingSettles.length === 1) setImmediate(() => this.flushSettles());
    });
  }

  private flushSettles(): void {
    const batch = this.pendingSettles.splice(0);
    const pipeline = this.redis.pipeline() as unknown as { quotaSettle(...args: Array<string | number>): void; exec(): Promise<Array<[Error | null, unknown]> | null> };
    for (const item of batch) pipeline.quotaSettle(...item.args);
    pipeline.exec().then(
      (results) =>
        batch.forEach((item, i) => {
          const [err, reply] = results?.[i] ?? [new Error('no reply'), null];
          if (err) return item.reject(err);
          const values = reply as number[];
          const out: Array<[number, number]> = [];
          for (let k = 0; k < values.length; k += 2) out.push([Number(values[k]), Number(values[k + 1])]);
          item.resolve(out);
        }),
      (err: Error) => batch.forEach((item) => item.reject(err)),
    );
  }

  async renew(id: string, leaseExpiry: number, keyTtlMs: number, prefixes: string[]): Promise<void> {
    await this.redis.quotaRenew(id, leaseExpiry, keyTtlMs, ...prefixes);
  }
}
