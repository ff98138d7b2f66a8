/**
 * What admission throws. Sheds are ApiErrors with retry-after (the edge maps them to 503 / 429); the two
 * classes below are control flow for the callers (the dispatcher, the deferred-work worker) and never
 * reach a client as such.
 */
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import type { Pod } from '../fleet/index.js';

/** Thrown to a retry when no pod it has not tried yet is in rotation. */
export class NoRetryTarget extends Error {}

/** Thrown when the caller's signal aborted while it waited (client gone, shutdown). */
export class AdmissionAborted extends Error {}

/** Why admission refused a request (a metrics label). */
export type ShedReason = 'no_pod' | 'queue_full' | 'org_queue_full' | 'deadline';

/** 503 model_overloaded: the pool's queue is full, or the request waited past its class's timeout. */
export function modelOverloaded(why: string, retryAfterSeconds: number): ApiError {
  return new ApiError(ErrorCode.ModelOverloaded, `The model is overloaded (${why}). Please retry after a short wait.`, null, {
    'retry-after': String(retryAfterSeconds),
  });
}

/** 429 rate_limit_exceeded: the organization already holds its share of the pool's queue. */
export function orgQueueFull(maxQueuedPerOrg: number, retryAfterSeconds: number): ApiError {
  return new ApiError(
    ErrorCode.RateLimitExceeded,
    `Too many of your organization's requests are waiting for this model (${maxQueuedPerOrg}). Please retry after a short wait.`,
    null,
    { 'retry-after': String(retryAfterSeconds) },
  );
}

/** The response header that says a request waits (or waited) for a pool starting from zero replicas. */
export const COLD_START_HEADER = 'x-switchyard-cold-start';

/** 503 model_overloaded for a request that waited past its class's deadline for a pool starting from zero. */
export function coldStartTimeout(waitedMs: number, retryAfterSeconds: number): ApiError {
  return new ApiError(ErrorCode.ModelOverloaded, `The model is starting from zero replicas and was not ready within ${Math.round(waitedMs / 1000)} s. Please retry after the time in retry-after.`, null, {
    'retry-after': String(Math.min(600, Math.max(1, retryAfterSeconds))),
    [COLD_START_HEADER]: 'true',
  });
}

/** 503 no_pod_available, retry-after = time until the first of `pods`' breakers half-opens (1–60 s). */
export function noPodAvailable(pods: readonly Pod[], now: number): ApiError {
  const nextTrialMs = pods.length ? Math.min(...pods.map((p) => p.breaker.msUntilTrial(now))) : 1_000;
  return new ApiError(ErrorCode.NoPodAvailable, 'No inference server is available for this model. Please retry shortly.', null, {
    'retry-after': String(Math.min(60, Math.max(1, Math.ceil(nextTrialMs / 1000)))),
  });
}
