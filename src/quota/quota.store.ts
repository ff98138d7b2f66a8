/** The quota scripts on Redis, one round trip each. */
import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { isRedisOutage } from '../errors/index.js';
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

/** Reconciles one admitted request: its reservation is replaced by what it really used. */
export interface Settlement {
  id: string;
  reservedTokens: number;
  actualTokens: number;
  reservedCostMicros: number;
  actualCostMicros: number;
  day: string;
  month: string;
  prefixes: string[];
}

/**
 * A token count or cost the store will not apply: negative, fractional, not finite or past 2^53 - 1.
 * Validation keeps such numbers out of requests, so one reaching the store is a bug upstream (or a
 * runtime reporting impossible usage); the whole reservation or settlement is refused, nothing written,
 * rather than clamped into something that looks plausible. `field` uses the scripts' argument names.
 */
export class QuotaAmountError extends Error {
  override readonly name = 'QuotaAmountError';

  constructor(
    readonly field: string,
    readonly value: unknown,
  ) {
    super(`quota ${field} must be a whole number from 0 to 2^53 - 1, got ${String(value)}`);
  }
}

/** The check the scripts repeat (quota.scripts.ts): a safe integer ≥ 0. */
function amount(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new QuotaAmountError(field, value);
  return value;
}

/** The scripts' INVALID_AMOUNT reply as a QuotaAmountError; any other error as it is. */
function fromReply(err: Error): Error {
  const refused = /^INVALID_AMOUNT (\S+) ?(\S*)/.exec(err.message);
  return refused ? new QuotaAmountError(refused[1]!, refused[2]) : err;
}

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

  constructor(private readonly redisService: RedisService) {
    const client = redisService.client as Redis & QuotaCommands;
    client.defineCommand('quotaAdmit', { numberOfKeys: 0, lua: ADMIT_SCRIPT });
    client.defineCommand('quotaSettle', { numberOfKeys: 0, lua: SETTLE_SCRIPT });
    client.defineCommand('quotaRenew', { numberOfKeys: 0, lua: RENEW_SCRIPT });
    this.redis = client;
  }

  /**
   * Whether `err` means Redis is unreachable; if so it is reported to the dependency monitor (logged
   * once per outage, counted per `stage`) and the caller need not log it.
   */
  reportOutage(err: unknown, stage: string): boolean {
    if (!isRedisOutage(err)) return false;
    this.redisService.failed(err, stage);
    return true;
  }

  async admit(r: AdmitRequest): Promise<AdmitResult> {
    const args: Array<string | number> = [r.now, r.windowMs, r.id, amount('tokens', r.tokens), amount('cost', r.costMicros), r.leaseExpiry, r.day, r.month, r.scopes.length];
    for (const s of r.scopes) args.push(s.prefix, n(s.rpm), n(s.tpm), n(s.concurrency), n(s.dayMicros), n(s.monthMicros));
    const reply = await this.redis.quotaAdmit(...args).catch((err: Error) => {
      throw fromReply(err);
    });
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
   * Rejects with QuotaAmountError, having written nothing, when an amount is not a whole number ≥ 0.
   */
  settle(s: Settlement): Promise<Array<[number, number]>> {
    // A throw in the executor rejects the promise: a refused settlement never joins the pipeline.
    return new Promise((resolve, reject) => {
      const amounts = [
        amount('reserved_tokens', s.reservedTokens),
        amount('actual_tokens', s.actualTokens),
        amount('reserved_cost', s.reservedCostMicros),
        amount('actual_cost', s.actualCostMicros),
      ];
      this.pendingSettles.push({ args: [s.id, ...amounts, s.day, s.month, ...s.prefixes], resolve, reject });
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
          if (err) return item.reject(fromReply(err));
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
