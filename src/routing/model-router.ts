/**
 * Route stage: which model (and so which pool) serves a request. The catalogue has already resolved
 * the client's name or alias to a model; its `fallbacks` list is the chain, in order (not transitive:
 * a fallback's own fallbacks are not followed). The requested model serves unless:
 *
 * - its pool is down (no pod in rotation)                          → reason `pool_unavailable`
 * - its pool is saturated (requests already wait there), the caller's tier is one the policy sends
 *   down the chain (SWITCHYARD_FALLBACK_ON_SATURATION_TIERS, default `free`), the request is
 *   interactive, and a later model's pool is not saturated         → reason `saturated`
 * - every attempt on its pool failed before the first byte          → reason `upstream_failed`
 *   (ModelRouter.next, called by the pipeline after dispatch failed)
 *
 * A fallback must be usable by the key (allow-list), serve the same endpoint kind and support the
 * request's parameters; it is re-planned with its own tokenizer and context window, and skipped when
 * the prompt does not fit it. Its response carries `model` = the fallback's name and the headers
 * `x-switchyard-fallback-from` / `x-switchyard-fallback-reason`.
 *
 * The route also carries the scheduler's ticket: priority class, fair-share flow and weight, cost and
 * the prompt's prefix hashes (computed once, reused by fallbacks).
 */
import { Inject, Injectable } from '@nestjs/common';
import { canUseModel, organizationCacheSalt, type Principal } from '../tenancy/index.js';
import { CatalogService } from '../catalog/index.js';
import type { CatalogModel } from '../catalog/index.js';
import { APP_CONFIG, type AppConfig, type PriorityClass, type Tier } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { PromptService, type PromptPlan } from '../prompt/index.js';
import type { InferenceEndpoint } from '../runtimes/index.js';
import { COLD_START_HEADER, SchedulerMetrics, SchedulerService, prefixKey, priorityClassOf, requestCost, tierWeight, type PrefixKey, type Ticket } from '../scheduler/index.js';
import { assertSupported } from '../validation/index.js';
import type { RequestBody } from '../validation/index.js';

export type FallbackReason = 'pool_unavailable' | 'saturated' | 'upstream_failed';

export interface RouteRequest {
  /** The catalogue model the client's name resolved to. */
  requested: CatalogModel;
  /** The name the client sent (an alias stays an alias in the response). */
  requestedName: string;
  endpoint: InferenceEndpoint;
  body: RequestBody;
  /** The prompt plan for `requested`. */
  plan: PromptPlan;
  principal: Pick<Principal, 'orgId' | 'allowedModels'> & { tier?: string };
  requestId: string;
  stream: boolean;
  bodyBytes: number;
  /** Priority class override (deferred work); default from `service_tier`. */
  cls?: PriorityClass;
  /** The client left: a fallback's prompt still waiting for a worker thread leaves the queue. */
  signal?: AbortSignal;
}

export interface Route {
  /** The model serving this attempt: the requested one or a fallback. */
  readonly model: CatalogModel;
  readonly plan: PromptPlan;
  readonly ticket: Ticket;
  /** Set when a fallback serves. */
  readonly fallback?: { readonly from: string; readonly reason: FallbackReason };
  /** `model` in the response: the client's name, or the fallback's. */
  readonly responseModel: string;
  /** Response headers saying a fallback served (empty otherwise). */
  readonly headers: Readonly<Record<string, string>>;
  readonly request: RouteRequest;
  readonly chain: readonly CatalogModel[];
  readonly position: number;
  readonly prefix: PrefixKey;
  /** The runtime's `cache_salt` for this request (its organization's prefix cache), or none (shared). */
  readonly cacheSalt?: string;
}

/** The request's prefix-cache identity, computed once and kept by every model of the chain. */
interface CacheKey {
  readonly prefix: PrefixKey;
  readonly cacheSalt?: string;
}

/** Errors after which the next model of the chain is tried: the pool failed, not the request. */
const POOL_FAILURES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.UpstreamConnectFailed,
  ErrorCode.UpstreamError,
  ErrorCode.UpstreamTimeout,
  ErrorCode.NoPodAvailable,
  ErrorCode.UpstreamUnavailable,
]);

@Injectable()
export class ModelRouter {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly catalog: CatalogService,
    private readonly prompt: PromptService,
    private readonly scheduler: SchedulerService,
    private readonly metrics: SchedulerMetrics,
  ) {}

  /** The model to try first. When every pool of the chain is down, the requested model (admission then sheds with 503 + retry-after). */
  async route(req: RouteRequest): Promise<Route> {
    const chain = this.chain(req);
    const cacheSalt = this.cacheSalt(req);
    const key: CacheKey = { prefix: prefixKey(req.endpoint, req.body, this.config.scheduling.prefix, cacheSalt), cacheSalt };
    return (await this.select(req, chain, 0, key, undefined)) ?? this.build(req, chain, 0, key, req.plan, undefined);
  }

  /**
   * Whose prefix cache the request may use on the runtime (tenancy/cache-salt.ts): its organization's
   * (or, with the client's own `cache_salt`, a partition of it), unless the operator shares caches
   * (SWITCHYARD_PREFIX_CACHE_SCOPE=shared) and the client asked for none. Embeddings are not salted:
   * they report no cached tokens and pooling runtimes take no salt.
   */
  private cacheSalt(req: RouteRequest): string | undefined {
    if (req.endpoint === 'embeddings') return undefined;
    const own = typeof req.body.cache_salt === 'string' ? req.body.cache_salt : undefined;
    if (own === undefined && this.config.scheduling.prefix.cacheScope === 'shared') return undefined;
    return organizationCacheSalt(this.config.keyPepper, req.principal.orgId, own);
  }

  /** After `err` on `route`'s pool: the next model of the chain that can serve, or undefined. */
  async next(route: Route, err: unknown): Promise<Route | undefined> {
    if (!(err instanceof ApiError) || !POOL_FAILURES.has(err.code)) return undefined;
    return this.select(route.request, route.chain, route.position + 1, { prefix: route.prefix, cacheSalt: route.cacheSalt }, 'upstream_failed');
  }

  /** The requested model, then its fallbacks this key may use for this request. */
  private chain(req: RouteRequest): CatalogModel[] {
    const chain = [req.requested];
    for (const name of req.requested.fallbacks) {
      let model: CatalogModel;
      try {
        model = this.catalog.resolve(name);
      } catch {
        continue;
      }
      if (chain.includes(model) || model.kind !== req.requested.kind || !canUseModel(req.principal as Principal, model.name)) continue;
      try {
        assertSupported(req.endpoint, req.body, model);
      } catch {
        continue;
      }
      chain.push(model);
    }
    return chain;
  }

  private async select(req: RouteRequest, chain: readonly CatalogModel[], from: number, key: CacheKey, failure: FallbackReason | undefined): Promise<Route | undefined> {
    const cls = req.cls ?? this.classOf(req);
    const tier = (req.principal.tier ?? 'standard') as Tier;
    const mayShed = cls === 'interactive' && this.config.scheduling.saturationFallbackTiers.includes(tier);
    let reason = failure;
    for (let i = from; i < chain.length; i++) {
      const model = chain[i];
      if (this.scheduler.isDown(model.pool)) {
        reason ??= 'pool_unavailable';
        continue;
      }
      if (mayShed && this.scheduler.isSaturated(model.pool) && chain.slice(i + 1).some((m) => !this.scheduler.isDown(m.pool) && !this.scheduler.isSaturated(m.pool))) {
        reason ??= 'saturated';
        continue;
      }
      let plan = req.plan;
      if (i > 0) {
        try {
          plan = await this.prompt.plan(req.endpoint, req.body, model, req.bodyBytes, req.signal);
        } catch (err) {
          if (err instanceof ApiError && err.status < 500) continue; // the prompt does not fit this model
          throw err;
        }
      }
      const route = this.build(req, chain, i, key, plan, i > 0 ? { from: req.requested.name, reason: reason ?? 'pool_unavailable' } : undefined);
      if (route.fallback) this.metrics.fallbacks.inc({ from: route.fallback.from, to: model.name, reason: route.fallback.reason });
      return route;
    }
    return undefined;
  }

  private classOf(req: RouteRequest): PriorityClass {
    return req.endpoint === 'chat.completions' ? priorityClassOf(req.body.service_tier) : 'interactive';
  }

  private build(req: RouteRequest, chain: readonly CatalogModel[], position: number, key: CacheKey, plan: PromptPlan, fallback: Route['fallback']): Route {
    const ticket: Ticket = {
      id: req.requestId,
      flow: req.principal.orgId,
      weight: tierWeight(req.principal),
      cost: requestCost(plan.promptTokens, plan.maxOutputTokens),
      cls: req.cls ?? this.classOf(req),
      promptTokens: plan.promptTokens,
      prefix: key.prefix,
      prefillEnd: req.endpoint === 'embeddings' ? 'completion' : req.stream ? 'first-byte' : 'estimate',
    };
    const model = chain[position];
    return {
      model,
      plan,
      ticket,
      fallback,
      responseModel: fallback ? model.name : req.requestedName,
      headers: {
        ...(fallback ? { 'x-switchyard-fallback-from': fallback.from, 'x-switchyard-fallback-reason': fallback.reason } : {}),
        // The pool is at zero (or its first pods are starting): this request waited for a cold start.
        ...(this.scheduler.isCold(model.pool) ? { [COLD_START_HEADER]: 'true' } : {}),
      },
      request: req,
      chain,
      position,
      prefix: key.prefix,
      cacheSalt: key.cacheSalt,
    };
  }
}
