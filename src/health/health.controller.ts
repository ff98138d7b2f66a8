/**
 * The operations endpoints (docs/architecture.md, "Probes"):
 * - /health — liveness: the process runs and its event loop answers. Nothing else; a failing
 *   dependency never gets a replica restarted.
 * - /ready — readiness: this replica can serve inference, i.e. it finished start-up (catalogue,
 *   tokenizers, limit policies loaded — otherwise it never listens) and is not draining. PostgreSQL
 *   and Redis outages and pools at zero pods do not make it unready: every replica shares them, cached
 *   keys keep working, and a scale-from-zero pool needs requests to reach the gateway. Body: only
 *   `{"status"}`; `?detail=1` adds the checks for operators (OperatorAccess).
 * - /metrics — Prometheus, for operators only (OperatorAccess).
 */
import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { PrismaService } from '../database/index.js';
import { RedisService } from '../redis/index.js';
import { FleetService } from '../fleet/index.js';
import { LifecycleService } from '../edge/index.js';
import { MetricsService } from '../observability/index.js';
import { CachedCheck } from './dependency-checks.js';
import { OperatorAccess } from './operator-access.js';

@Controller()
export class HealthController {
  private readonly postgres: CachedCheck;
  private readonly redis: CachedCheck;
  private readonly access: OperatorAccess;

  constructor(
    prisma: PrismaService,
    redis: RedisService,
    private readonly fleet: FleetService,
    private readonly lifecycle: LifecycleService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const ttl = config.operations.readyCheckTtlMs;
    this.postgres = new CachedCheck(() => prisma.ping(), ttl, () => metrics.readyChecks.inc({ dependency: 'postgres' }));
    this.redis = new CachedCheck(() => redis.ping(), ttl, () => metrics.readyChecks.inc({ dependency: 'redis' }));
    this.access = new OperatorAccess(config.operations.metricsToken);
  }

  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query('detail') detail?: string): Promise<void> {
    const wantDetail = detail !== undefined && detail !== '0' && detail !== 'false';
    if (wantDetail) this.access.assert(req, 'The detail of /ready');
    // The checks run (cached) on every probe, so the dependency gauges and recovery logs stay current
    // even without traffic; they do not decide readiness.
    const [postgres, redis] = await Promise.all([this.postgres.get(), this.redis.get()]);
    const ready = !this.lifecycle.draining;
    const status = ready ? 'ok' : 'fail';
    reply.status(ready ? 200 : 503).header('cache-control', 'no-store');
    if (!wantDetail) {
      await reply.send({ status });
      return;
    }
    const pods = this.fleet.readyPodCount();
    await reply.send({
      status,
      checks: {
        draining: this.lifecycle.draining ? { status: 'fail', detail: 'shutting down' } : { status: 'ok' },
        postgres,
        redis,
        pods: { status: pods > 0 ? 'ok' : 'none', detail: `${pods} in rotation (informational: pools may scale from zero)` },
      },
    });
  }

  @Get('metrics')
  async prometheus(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.access.assert(req, '/metrics');
    for (const pool of new Set(this.fleet.allPods().map((p) => p.pool))) {
      const now = Date.now();
      this.metrics.podsReady.set({ pool }, this.fleet.podsOf(pool).filter((p) => p.isAvailable(now)).length);
    }
    await reply.header('content-type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
