/**
 * Prometheus metrics for the gateway (prefix `switchyard_`). Labels are bounded: model names come from
 * the catalogue (never from the client), error codes from the ErrorCode enum.
 */
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'switchyard_requests_total',
    help: 'Inference requests finished, by model, endpoint and HTTP status.',
    labelNames: ['model', 'endpoint', 'status'] as const,
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'switchyard_errors_total',
    help: 'Errors returned to clients (and client_closed_request: the client left first), by model, OpenAI error type and code.',
    labelNames: ['model', 'type', 'code'] as const,
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'switchyard_request_duration_seconds',
    help: 'Time from request received to response finished.',
    labelNames: ['model', 'endpoint', 'stream'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly ttft = new Histogram({
    name: 'switchyard_time_to_first_token_seconds',
    help: 'Time from request received to the first streamed chunk sent to the client.',
    labelNames: ['model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: 'switchyard_tokens_total',
    help: 'Tokens processed as reported by the runtime, by model and kind (prompt, completion, cached).',
    labelNames: ['model', 'kind'] as const,
    registers: [this.registry],
  });

  readonly promptTokenMismatch = new Counter({
    name: 'switchyard_prompt_token_mismatch_total',
    help: "Requests whose prompt token count from the runtime differs from ours (the catalogue's tokenizer or template is wrong for the model).",
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly admissionRejections = new Counter({
    name: 'switchyard_admission_rejections_total',
    help: 'Requests refused by the in-process admission step before any parsing, by scope (org, key) and kind (rpm, bytes_in_flight).',
    labelNames: ['scope', 'kind'] as const,
    registers: [this.registry],
  });

  readonly quotaRejections = new Counter({
    name: 'switchyard_quota_rejections_total',
    help: 'Requests refused by a limit, by scope (org, key, model) and kind (rpm, tpm, concurrency, spend_day, ...).',
    labelNames: ['scope', 'kind'] as const,
    registers: [this.registry],
  });

  readonly quotaErrors = new Counter({
    name: 'switchyard_quota_errors_total',
    help: 'Quota store (Redis) failures, by stage (admit, settle).',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });

  readonly quotaFailOpen = new Counter({
    name: 'switchyard_quota_fail_open_total',
    help: 'Requests admitted without limit checks because Redis was unreachable (fail-open policy).',
    registers: [this.registry],
  });

  readonly budgetAlerts = new Counter({
    name: 'switchyard_budget_alerts_total',
    help: 'Soft spend budgets crossed, by scope and period.',
    labelNames: ['scope', 'period'] as const,
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'switchyard_requests_in_flight',
    help: 'Inference requests being processed now.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly streamClientStalls = new Counter({
    name: 'switchyard_stream_client_stalls_total',
    help: 'Streams ended because the client stopped reading (its socket did not drain for the stall timeout).',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly upstreamRetries = new Counter({
    name: 'switchyard_upstream_retries_total',
    help: 'Requests retried on another pod before the first byte.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly podsReady = new Gauge({
    name: 'switchyard_pool_pods_ready',
    help: 'Pods in rotation per pool.',
    labelNames: ['pool'] as const,
    registers: [this.registry],
  });

  readonly dependencyUp = new Gauge({
    name: 'switchyard_dependency_up',
    help: 'Whether this replica reaches a dependency (1) or not (0), by dependency (postgres, redis).',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  readonly dependencyErrors = new Counter({
    name: 'switchyard_dependency_errors_total',
    help: 'Operations that failed because a dependency was unreachable, by dependency and stage (what needed it). Logged once per outage; counted here.',
    labelNames: ['dependency', 'stage'] as const,
    registers: [this.registry],
  });

  readonly readyChecks = new Counter({
    name: 'switchyard_ready_checks_total',
    help: "Dependency checks /ready actually ran (the rest were answered from the cache), by dependency.",
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  readonly dependencyOutages = new Counter({
    name: 'switchyard_dependency_outages_total',
    help: 'Outages of a dependency seen by this replica (each logged once, with its recovery).',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_' });
  }
}
