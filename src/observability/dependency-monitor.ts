/**
 * One place that knows whether PostgreSQL and Redis are reachable from this replica. An outage is
 * logged once (one line, the first error's message, no stack) and its recovery once (how long, how
 * many operations failed meanwhile); every failed operation in between is only counted
 * (`switchyard_dependency_errors_total`), so a dependency down at 200 req/s does not flood the log.
 * Fed by the database layer (every query's outcome), the Redis connection's events and the callers
 * that degrade around Redis (quota fail-open, the edge throttle).
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DEPENDENCY_NAMES, type Dependency } from '../errors/index.js';
import { LOGGER } from './logger.js';
import { MetricsService } from './metrics.service.js';

interface Outage {
  since: number;
  failures: number;
}

@Injectable()
export class DependencyMonitor {
  private readonly outages = new Map<Dependency, Outage>();

  constructor(
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    for (const dependency of Object.keys(DEPENDENCY_NAMES) as Dependency[]) metrics.dependencyUp.set({ dependency }, 1);
  }

  isUp(dependency: Dependency): boolean {
    return !this.outages.has(dependency);
  }

  /** An operation (`stage`: what needed the dependency) failed because `dependency` is unreachable. */
  failed(dependency: Dependency, err: unknown, stage: string): void {
    this.metrics.dependencyErrors.inc({ dependency, stage });
    const outage = this.outages.get(dependency);
    if (outage) {
      outage.failures++;
      return;
    }
    this.outages.set(dependency, { since: Date.now(), failures: 1 });
    this.metrics.dependencyUp.set({ dependency }, 0);
    this.metrics.dependencyOutages.inc({ dependency });
    const error = err instanceof Error ? err.message.replace(/\s+/g, ' ').trim().slice(0, 300) : String(err);
    this.logger.error({ dependency, stage, error }, `${DEPENDENCY_NAMES[dependency]} is unreachable; further failures are counted in switchyard_dependency_errors_total until it recovers`);
  }

  /** `dependency` answered again (a query succeeded, the connection is ready). Cheap when it was up. */
  recovered(dependency: Dependency): void {
    const outage = this.outages.get(dependency);
    if (!outage) return;
    this.outages.delete(dependency);
    this.metrics.dependencyUp.set({ dependency }, 1);
    const downMs = Date.now() - outage.since;
    this.logger.warn({ dependency, downMs, failures: outage.failures }, `${DEPENDENCY_NAMES[dependency]} is reachable again after ${(downMs / 1000).toFixed(1)} s (${outage.failures} failed operations)`);
  }
}
