/**
 * Cost of the limit check: one QuotaService.admit (a single Redis script call) and its settle, against
 * the real local Redis, sequentially (latency) and 64 at a time (throughput), with every limit kind on
 * for three scopes (org, key, org×model) — the most a request ever pays.
 *
 *   npm run bench:quota      (writes its section of bench/RESULTS.md)
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { pino } from 'pino';
import type { Principal } from '../../src/tenancy/principal.js';
import type { CatalogModel } from '../../src/catalog/catalog.types.js';
import { DEFAULT_TIER_LIMITS, type AppConfig, type Limits, type Tier } from '../../src/config/index.js';
import { DependencyMonitor } from '../../src/observability/dependency-monitor.js';
import { MetricsService } from '../../src/observability/metrics.service.js';
import type { LimitPolicyRepository } from '../../src/quota/limit-policy.repository.js';
import { LimitPolicyService } from '../../src/quota/limit-policy.service.js';
import { scopeKey } from '../../src/quota/limits.js';
import { QuotaService } from '../../src/quota/quota.service.js';
import { QuotaStore } from '../../src/quota/quota.store.js';
import type { InvalidationBus } from '../../src/redis/invalidation.bus.js';
import { RedisService } from '../../src/redis/redis.service.js';
import type { AuditLogRepository } from '../../src/tenancy/audit-log.repository.js';
import { writeSection } from '../results.js';

const HUGE: Limits = { rpm: 1e9, tpm: 1e12, concurrency: 1e6, dailySpend: 1e9, monthlySpend: 1e9, softDailySpend: null, softMonthlySpend: null };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const logger = pino({ level: 'silent' });
  const tiers = Object.fromEntries((Object.keys(DEFAULT_TIER_LIMITS) as Tier[]).map((t) => [t, HUGE])) as Record<Tier, Limits>;
  const config = { redisUrl: process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379', quota: { tiers, leaseMs: 60_000, failMode: { rate: 'open', spend: 'closed' } } } as AppConfig;
  const redis = new RedisService(config, new DependencyMonitor(new MetricsService(), logger));
  await redis.onModuleInit();
  const policies = new LimitPolicyService(null as unknown as LimitPolicyRepository, { listen: () => undefined } as unknown as InvalidationBus, config, logger);
  const quota = new QuotaService(new QuotaStore(redis), policies, new MetricsService(), { append: async () => undefined } as unknown as AuditLogRepository, config, logger);
  const principal: Principal = { orgId: `bench-${randomUUID()}`, keyId: `k-${randomUUID()}`, keyPrefix: 'sk-sy-bench', tier: 'standard', scopes: new Set(['inference']), allowedModels: null };
  policies.put(scopeKey('key', principal.orgId, principal.keyId), HUGE);
  policies.put(scopeKey('model', principal.orgId, 'm'), HUGE);
  const model = { name: 'm', inputPricePerMTok: 0.1, outputPricePerMTok: 0.2 } as CatalogModel;

  const sequential = async (n: number) => {
    const admit: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const ticket = await quota.admit(principal, model, 200, 300);
      admit.push(performance.now() - t);
      await ticket.settle({ promptTokens: 200, completionTokens: 120 });
    }
    const cpu = process.cpuUsage(cpu0);
    return { admit: admit.sort((a, b) => a - b), cpuUsPerRequest: (cpu.user + cpu.system) / n };
  };
  process.stdout.write('warm-up…\n');
  await sequential(500);
  process.stdout.write('sequential…\n');
  const seq = await sequential(3_000);
  process.stdout.write('concurrent…\n');
  const started = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (performance.now() - started < 5_000) {
        const ticket = await quota.admit(principal, model, 200, 300);
        await ticket.settle({ promptTokens: 200, completionTokens: 120 });
        done++;
      }
    }),
  );
  const rate = done / ((performance.now() - started) / 1000);
  quota.onApplicationShutdown();
  await redis.onApplicationShutdown();

  writeSection(
    'quota',
    `## Limit check (quota stage)

Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Node ${process.version}, local Redis.
Reproduce: \`npm run bench:quota\` (bench/quota/run.ts). Every limit kind on, three scopes (org, key,
org×model): the most a request pays. admit = one Redis script call before dispatch; settle = one after.

| measure | value |
|---|---|
| admit latency p50 / p90 / p99 (sequential) | ${percentile(seq.admit, 50).toFixed(3)} / ${percentile(seq.admit, 90).toFixed(3)} / ${percentile(seq.admit, 99).toFixed(3)} ms |
| gateway CPU per request (admit + settle) | ${seq.cpuUsPerRequest.toFixed(0)} µs |
| admit + settle pairs per second, 64 concurrent | ${Math.round(rate).toLocaleString('en')} |

The same check inside the whole gateway is part of the overhead benchmark above (its Switchyard arm runs
with authentication, limits and the quota settle on).
`,
  );
  process.stdout.write('wrote bench/RESULTS.md (quota section)\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
