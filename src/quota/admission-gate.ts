/**
 * The first, cheap limit check: in-process, right after authentication and before the body is parsed,
 * validated or tokenized. Per organization and per key, on this replica:
 *
 * - **request rate**: a token bucket holding `rpm` requests that refills at `rpm` per minute. It never
 *   refuses a request the quota stage's sliding 60 s window (Redis, global) would admit: an empty bucket
 *   means at least `rpm` requests passed here within the last minute. It lets through at most 2 × rpm
 *   in any minute, so a flood pays for parsing and tokenizing at that rate at most, and the quota stage
 *   still holds the exact limit across replicas. Every request that passes counts, including those that
 *   later fail validation: that work is what this protects.
 * - **body bytes in flight**: the request bodies this scope has in the pipeline at once, from here to
 *   the end of the response, at most `concurrency` × the body limit — what the scope's concurrency
 *   limit would allow if every request were as large as it may be.
 *
 * Limits come from the same tier defaults and policy overrides as the quota stage (no limit there, none
 * here). No I/O: the global check is still the one Redis call of the quota stage.
 */
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../clock/index.js';
import { APP_CONFIG, type AppConfig, type Limits } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { MetricsService } from '../observability/index.js';
import type { Principal } from '../tenancy/index.js';
import { LimitPolicyService } from './limit-policy.service.js';
import { formatDuration, rateLimitHeaders } from './rate-limit-headers.js';

const MINUTE_MS = 60_000;

/** What a scope holds on this replica. */
interface Gauge {
  /** Requests the bucket still admits (fractional while refilling), as of `at`. */
  tokens: number;
  at: number;
  bytes: number;
}

/** An admitted request's hold on its scopes' bytes in flight. `release` is idempotent. */
export interface AdmissionPass {
  release(): void;
}

@Injectable()
export class AdmissionGate {
  private readonly gauges = new Map<string, Gauge>();
  private lastSweep: number;

  constructor(
    private readonly policies: LimitPolicyService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.lastSweep = clock.now();
  }

  /** Admits a request of `bytes` body bytes, or throws 429 rate_limit_exceeded with retry-after. */
  admit(principal: Principal, bytes: number): AdmissionPass {
    const now = this.clock.now();
    this.sweep(now);
    const limits = this.policies.limitsFor(principal);
    const scopes: Array<{ kind: 'org' | 'key'; label: string; limits: Limits; gauge: Gauge }> = [
      { kind: 'org', label: `organization ${principal.orgId}`, limits: limits.org, gauge: this.gauge(`org:${principal.orgId}`, limits.org, now) },
      { kind: 'key', label: `key ${principal.keyPrefix}`, limits: limits.key, gauge: this.gauge(`key:${principal.keyId}`, limits.key, now) },
    ];
    // Check every scope before charging any, so a refusal leaves nothing behind.
    for (const { kind, label, limits: l, gauge } of scopes) {
      if (l.rpm !== null && gauge.tokens < 1) {
        const waitMs = l.rpm > 0 ? Math.ceil(((1 - gauge.tokens) * MINUTE_MS) / l.rpm) : MINUTE_MS;
        this.metrics.admissionRejections.inc({ scope: kind, kind: 'rpm' });
        throw new ApiError(ErrorCode.RateLimitExceeded, `Rate limit reached on requests per minute (RPM) for ${label}: Limit ${l.rpm}. Please try again in ${formatDuration(waitMs)}.`, null, {
          'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))),
          'retry-after-ms': String(waitMs),
          ...rateLimitHeaders({ requests: { limit: l.rpm, remaining: 0, resetMs: waitMs } }),
        });
      }
      const maxBytes = l.concurrency === null ? null : l.concurrency * this.config.bodyLimitBytes;
      if (maxBytes !== null && gauge.bytes + bytes > maxBytes) {
        this.metrics.admissionRejections.inc({ scope: kind, kind: 'bytes_in_flight' });
        throw new ApiError(
          ErrorCode.RateLimitExceeded,
          `Too many request bytes in flight for ${label}: ${gauge.bytes} bytes of earlier requests are still being processed, and this one adds ${bytes} (limit ${maxBytes}). Please try again in 1s.`,
          null,
          { 'retry-after': '1', 'retry-after-ms': '1000' },
        );
      }
    }
    for (const { limits: l, gauge } of scopes) {
      if (l.rpm !== null) gauge.tokens -= 1;
      gauge.bytes += bytes;
    }
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        for (const { gauge } of scopes) gauge.bytes -= bytes;
      },
    };
  }

  /** The scope's gauge, its bucket refilled to `now`. */
  private gauge(id: string, limits: Limits, now: number): Gauge {
    const capacity = limits.rpm ?? 0;
    let gauge = this.gauges.get(id);
    if (!gauge) {
      gauge = { tokens: capacity, at: now, bytes: 0 };
      this.gauges.set(id, gauge);
    } else {
      gauge.tokens = Math.min(capacity, gauge.tokens + ((now - gauge.at) * capacity) / MINUTE_MS);
      gauge.at = now;
    }
    return gauge;
  }

  /**
   * Once a minute, forgets scopes idle for a minute: their bucket is full again and they hold no bytes,
   * the same as a scope never seen. Memory follows the tenants active in the last minute or two.
   */
  private sweep(now: number): void {
    if (now - this.lastSweep < MINUTE_MS) return;
    this.lastSweep = now;
    for (const [id, gauge] of this.gauges) if (gauge.bytes === 0 && now - gauge.at >= MINUTE_MS) this.gauges.delete(id);
  }
}
