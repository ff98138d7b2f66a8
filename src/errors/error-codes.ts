/**
 * Every error Switchyard returns has a typed code. The one mapping below turns a code into an HTTP
 * status and an OpenAI error `type`; adding a code without mapping it fails to compile.
 */
export enum ErrorCode {
  // 400: the request itself is wrong
  InvalidJson = 'invalid_json',
  InvalidRequest = 'invalid_request_error',
  InvalidValue = 'invalid_value',
  MissingRequiredParameter = 'missing_required_parameter',
  UnknownParameter = 'unknown_parameter',
  UnsupportedParameter = 'unsupported_parameter',
  UnsupportedValue = 'unsupported_value',
  ContextLengthExceeded = 'context_length_exceeded',
  /** An `image_url` the gateway will not let a runtime fetch (host not on the allow-list, bad data: URL). */
  InvalidImageUrl = 'invalid_image_url',
  // 401 / 403
  InvalidApiKey = 'invalid_api_key',
  PermissionDenied = 'permission_denied',
  OrganizationSuspended = 'organization_suspended',
  // 404
  ModelNotFound = 'model_not_found',
  UnknownRoute = 'unknown_url',
  /** An admin resource that does not exist, or that the caller may not see (never revealed which). */
  NotFound = 'not_found',
  /** 409: an admin change that clashes with the current state (a name already taken, a model still referenced). */
  Conflict = 'conflict',
  // 405 / 413 / 415
  MethodNotAllowed = 'method_not_allowed',
  PayloadTooLarge = 'request_too_large',
  UnsupportedMediaType = 'unsupported_media_type',
  // 429
  RateLimitExceeded = 'rate_limit_exceeded',
  InsufficientQuota = 'insufficient_quota',
  /**
   * 499 (nginx's "client closed request"): the client went away before the response was complete.
   * Recorded in the access log and metrics, never sent (nobody is listening); not the upstream's fault.
   */
  ClientClosedRequest = 'client_closed_request',
  // 5xx: ours or the fleet's
  /** No pod of the model's pool is in rotation (all ejected by the circuit breaker, or none at all). */
  NoPodAvailable = 'no_pod_available',
  /** The model's pool is saturated: the request waited its class's queue timeout, or the queue is full. */
  ModelOverloaded = 'model_overloaded',
  QuotaUnavailable = 'quota_unavailable',
  /**
   * The pods were reached but refused the work on every attempt: the runtime answered 503 (loading,
   * sleeping, its engine down) or 429 (its own queue full). Retried on other pods first, like a 5xx.
   */
  UpstreamUnavailable = 'upstream_unavailable',
  UpstreamConnectFailed = 'upstream_connect_failed',
  UpstreamTimeout = 'upstream_timeout',
  UpstreamError = 'upstream_error',
  UpstreamStreamInterrupted = 'upstream_stream_interrupted',
  ShuttingDown = 'shutting_down',
  /** The system that runs a pool's pods (the Kubernetes API) refused or could not be reached: an admin scale failed. */
  FleetUnavailable = 'fleet_unavailable',
  Internal = 'internal_error',
}

export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error'
  | 'service_unavailable';

export interface ErrorMapping {
  status: number;
  type: OpenAiErrorType;
}

function assertUnreachable(value: never): never {
  throw new Error(`unmapped error code: ${String(value)}`);
}

export function mapErrorCode(code: ErrorCode): ErrorMapping {
  switch (code) {
    case ErrorCode.InvalidJson:
    case ErrorCode.InvalidRequest:
    case ErrorCode.InvalidValue:
    case ErrorCode.MissingRequiredParameter:
    case ErrorCode.UnknownParameter:
    case ErrorCode.UnsupportedParameter:
    case ErrorCode.UnsupportedValue:
    case ErrorCode.ContextLengthExceeded:
    case ErrorCode.InvalidImageUrl:
      return { status: 400, type: 'invalid_request_error' };
    case ErrorCode.InvalidApiKey:
      return { status: 401, type: 'authentication_error' };
    case ErrorCode.PermissionDenied:
    case ErrorCode.OrganizationSuspended:
      return { status: 403, type: 'permission_error' };
    case ErrorCode.ModelNotFound:
    case ErrorCode.UnknownRoute:
    case ErrorCode.NotFound:
      return { status: 404, type: 'invalid_request_error' };
    case ErrorCode.Conflict:
      return { status: 409, type: 'invalid_request_error' };
    case ErrorCode.MethodNotAllowed:
      return { status: 405, type: 'invalid_request_error' };
    case ErrorCode.PayloadTooLarge:
      return { status: 413, type: 'invalid_request_error' };
    case ErrorCode.UnsupportedMediaType:
      return { status: 415, type: 'invalid_request_error' };
    case ErrorCode.RateLimitExceeded:
      return { status: 429, type: 'rate_limit_error' };
    case ErrorCode.InsufficientQuota:
      return { status: 429, type: 'insufficient_quota' };
    case ErrorCode.ClientClosedRequest:
      return { status: 499, type: 'invalid_request_error' };
    case ErrorCode.NoPodAvailable:
    case ErrorCode.ModelOverloaded:
    case ErrorCode.QuotaUnavailable:
    case ErrorCode.UpstreamUnavailable:
    case ErrorCode.ShuttingDown:
    case ErrorCode.FleetUnavailable:
      return { status: 503, type: 'service_unavailable' };
    case ErrorCode.UpstreamConnectFailed:
    case ErrorCode.UpstreamError:
    case ErrorCode.UpstreamStreamInterrupted:
      return { status: 502, type: 'server_error' };
    case ErrorCode.UpstreamTimeout:
      return { status: 504, type: 'server_error' };
    case ErrorCode.Internal:
      return { status: 500, type: 'server_error' };
    default:
      return assertUnreachable(code);
  }
}
