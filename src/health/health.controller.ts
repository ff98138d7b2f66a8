/** Liveness, readiness (PostgreSQL, Redis, at least one pod) and Prometheus metrics. */
import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { PrismaService } from '../database/index.js';
import { RedisService } from '../redis/index.js';
import { FleetService } from '../fleet/index.js';
import { LifecycleService } from '../edge/index.js';
import { MetricsService } from '../observability/index.js';

type Check = { status: 'ok' | 'fail'; detail?: string };
const CHECK_TIMEOUT_MS = 1_000;

async function check(fn: () => Promise<unknown>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
    ]);
    return { status: 'ok' };
  } catch (err) {
    return { status: 'fail', detail: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

@Controller()
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
    private readonly fleet: FleetService,
    private readonly lifecycle: LifecycleService,
    private readonly metrics: MetricsService,
  ) {}

  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const [postgres, redis] = await Promise.all([check(() => this.prisma.ping()), check(() => this.redis.ping())]);
    const podCount = this.fleet.readyPodCount();
    const pods: Check = podCount > 0 ? { status: 'ok', detail: `${podCount} ready` } : { status: 'fail', detail: 'no pod is ready' };
    const draining: Check = this.lifecycle.draining ? { status: 'fail', detail: 'shutting down' } : { status: 'ok' };
    const checks = { postgres, redis, pods, draining };
    const ok = Object.values(checks).every((c) => c.status === 'ok');
    await reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'fail', checks });
  }

  @Get('metrics')
  async prometheus(@Res() reply: FastifyReply): Promise<void> {
    for (const pool of new Set(this.fleet.allPods().map((p) => p.pool))) {
      const now = Date.now();
      this.metrics.podsReady.set({ pool }, this.fleet.podsOf(pool).filter((p) => p.isAvailable(now)).length);
    }
    await reply.header('content-type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
