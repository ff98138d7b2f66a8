/**
 * Serving a routed request: wait for a pod of the route's pool (scheduler: priority, fair share,
 * admission budget), send it there (dispatcher: retries on other pods of the pool before the first
 * byte), and when the pool fails every attempt, move down the model's fallback chain and start again.
 * Live requests (the inference pipeline) and deferred jobs (the BullMQ worker) are both served here.
 */
import { Injectable } from '@nestjs/common';
import { ModelRouter, type Route } from '../routing/index.js';
import { SchedulerService, type Lease } from '../scheduler/index.js';
import { DispatcherService, type DispatchRequest, type JsonResult, type StreamResult } from './dispatcher.service.js';

export interface RunHooks {
  /** Ends the wait for admission (default: the request's own signal). */
  admitSignal?: AbortSignal;
  /** A pod was granted (after the wait in the queue). */
  admitted?(lease: Lease): void;
  /** The request moves to `next` (a fallback model): re-admit what depends on the model, e.g. quotas. */
  fallback?(next: Route): Promise<void>;
}

export interface Served {
  /** The route that served: the requested model's, or a fallback's. */
  route: Route;
  result: JsonResult | StreamResult;
}

@Injectable()
export class RouteRunner {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly dispatcher: DispatcherService,
    private readonly router: ModelRouter,
  ) {}

  async run(route: Route, req: Omit<DispatchRequest, 'model' | 'body' | 'cacheSalt'>, hooks: RunHooks = {}): Promise<Served> {
    for (;;) {
      const lease = await this.scheduler.admit(route.model.pool, route.ticket, hooks.admitSignal ?? req.signal);
      hooks.admitted?.(lease);
      try {
        const result = await this.dispatcher.dispatch({ ...req, model: route.model, body: route.plan.body, cacheSalt: route.cacheSalt }, lease);
        return { route, result };
      } catch (err) {
        if (req.signal.aborted) throw err; // the client left: not the pool's failure
        const next = await this.router.next(route, err);
        if (!next) throw err;
        await hooks.fallback?.(next);
        route = next;
      }
    }
  }
}
