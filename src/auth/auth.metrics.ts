/** Authentication counters. Labels are closed sets: never a key, a prefix or an organization. */
import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../observability/index.js';

export type AuthRejection = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired' | 'suspended' | 'scope' | 'lookups_queued';

@Injectable()
export class AuthMetrics {
  readonly cache: Counter<'result'>;
  readonly rejections: Counter<'reason'>;

  constructor(metrics: MetricsService) {
    this.cache = new Counter({
      name: 'switchyard_auth_cache_total',
      help: 'API key lookups by principal cache result (hit, or miss that queried PostgreSQL).',
      labelNames: ['result'] as const,
      registers: [metrics.registry],
    });
    this.rejections = new Counter({
      name: 'switchyard_auth_rejections_total',
      help: 'Requests refused by authentication, by reason.',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
  }
}
