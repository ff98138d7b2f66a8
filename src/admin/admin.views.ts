/**
 * What the admin API returns: OpenAI-style objects (`object` field, snake_case, Unix seconds). An API
 * key view carries its display prefix only; the secret appears once, in the create/rotate response.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiProperty, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Principal } from '../tenancy/index.js';
import { SCOPES } from '../tenancy/index.js';
import type { CatalogModel } from '../catalog/index.js';
import { TIERS, type Limits } from '../config/index.js';
import { isPlatformAdmin } from '../tenancy/index.js';
import { TIER_POLICIES } from '../tenancy/index.js';
import type { LimitPolicyRecord } from '../quota/index.js';
import type { PoolStatus } from '../fleet/index.js';
import type { ApiKeyRecord, AuditRecord, OrganizationRecord, Page } from '../tenancy/index.js';

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const secondsOrNull = (d: Date | null) => (d ? seconds(d) : null);

export class OrganizationView {
  @ApiProperty({ example: 'org_5f0c1d2e3a4b5c6d7e8f9a0b' }) id!: string;
  @ApiProperty({ enum: ['organization'] }) object!: 'organization';
  @ApiProperty() name!: string;
  @ApiProperty({ enum: TIERS }) tier!: string;
  @ApiProperty({ enum: ['active', 'suspended'] }) status!: string;
  @ApiProperty({ type: [String], nullable: true, description: 'Null: every catalogue model.' }) allowed_models!: string[] | null;
  @ApiProperty() created_at!: number;
  @ApiProperty() updated_at!: number;
  @ApiProperty({ type: Number, nullable: true }) suspended_at!: number | null;
}

export function organizationView(org: OrganizationRecord): OrganizationView {
  return {
    id: org.id,
    object: 'organization',
    name: org.name,
    tier: org.tier,
    status: org.status,
    allowed_models: org.allowedModels.length ? org.allowedModels : null,
    created_at: seconds(org.createdAt),
    updated_at: seconds(org.updatedAt),
    suspended_at: secondsOrNull(org.suspendedAt),
  };
}

export class ApiKeyView {
  @ApiProperty({ example: 'key_0a1b2c3d4e5f60718293a4b5' }) id!: string;
  @ApiProperty({ enum: ['api_key'] }) object!: 'api_key';
  @ApiProperty() org_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ example: 'sk-sy-Ab3dE6gH', description: 'First characters of the key; the rest is never stored.' }) prefix!: string;
  @ApiProperty({ enum: SCOPES, isArray: true }) scopes!: string[];
  @ApiProperty({ type: [String], nullable: true, description: "Null: every model the organization may use." }) allowed_models!: string[] | null;
  @ApiProperty({ enum: ['active', 'revoked', 'expired'] }) status!: 'active' | 'revoked' | 'expired';
  @ApiProperty() created_at!: number;
  @ApiProperty({ type: Number, nullable: true }) expires_at!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Written in batches: accurate to a few seconds.' }) last_used_at!: number | null;
  @ApiProperty({ type: Number, nullable: true }) revoked_at!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Key that created this one (null: bootstrap or CLI).' }) created_by!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Key this one replaced by rotation.' }) rotated_from!: string | null;
}

export function apiKeyView(key: ApiKeyRecord, now = Date.now()): ApiKeyView {
  return {
    id: key.id,
    object: 'api_key',
    org_id: key.orgId,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    allowed_models: key.allowedModels.length ? key.allowedModels : null,
    status: key.revokedAt ? 'revoked' : key.expiresAt && key.expiresAt.getTime() <= now ? 'expired' : 'active',
    created_at: seconds(key.createdAt),
    expires_at: secondsOrNull(key.expiresAt),
    last_used_at: secondsOrNull(key.lastUsedAt),
    revoked_at: secondsOrNull(key.revokedAt),
    created_by: key.createdByKeyId,
    rotated_from: key.rotatedFromId,
  };
}

export class CreatedApiKeyView extends ApiKeyView {
  @ApiProperty({ description: 'The key. Shown only in this response; store it now.' }) secret!: string;
}

export class RotatedApiKeyView extends CreatedApiKeyView {
  @ApiProperty({ type: ApiKeyView, description: 'The key that was replaced (revoked, or expiring after the grace period).' }) replaced!: ApiKeyView;
}

export class ModelView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['model'] }) object!: 'model';
  @ApiProperty({ enum: ['chat', 'embedding'] }) kind!: string;
  @ApiProperty({ type: [String] }) aliases!: string[];
  @ApiProperty() context_window!: number;
  @ApiProperty() owned_by!: string;
}

export function modelView(model: CatalogModel): ModelView {
  return { id: model.name, object: 'model', kind: model.kind, aliases: model.aliases, context_window: model.contextWindow, owned_by: model.ownedBy };
}

class LimitValuesView {
  @ApiProperty({ type: Number, nullable: true }) requests_per_minute!: number | null;
  @ApiProperty({ type: Number, nullable: true }) tokens_per_minute!: number | null;
  @ApiProperty({ type: Number, nullable: true }) max_concurrent_requests!: number | null;
  @ApiProperty({ type: Number, nullable: true }) daily_spend!: number | null;
  @ApiProperty({ type: Number, nullable: true }) monthly_spend!: number | null;
  @ApiProperty({ type: Number, nullable: true }) soft_daily_spend!: number | null;
  @ApiProperty({ type: Number, nullable: true }) soft_monthly_spend!: number | null;
}

export class LimitPolicyView {
  @ApiProperty({ enum: ['limit_policy'] }) object!: 'limit_policy';
  @ApiProperty({ enum: ['org', 'key', 'model'] }) scope!: string;
  @ApiProperty({ type: String, nullable: true }) key_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) model!: string | null;
  @ApiProperty({ type: LimitValuesView, description: 'Only the fields this override sets; null inherits.' }) limits!: LimitValuesView;
  @ApiProperty({ description: "Set by a platform admin: the organization's admins may lower these limits, not raise or remove them." }) set_by_platform_admin!: boolean;
}

export class LimitsView {
  @ApiProperty({ enum: ['organization.limits'] }) object!: 'organization.limits';
  @ApiProperty() org_id!: string;
  @ApiProperty({ enum: TIERS }) tier!: string;
  @ApiProperty({ description: 'Scheduling priority of the tier (higher is served first under contention).' }) priority!: number;
  @ApiProperty({ type: LimitValuesView, description: "The organization's limits: its tier's defaults with its override applied (null: no limit)." })
  effective!: LimitValuesView;
  @ApiProperty({ type: [LimitPolicyView], description: 'Every override in the organization (org, key and model scopes).' }) policies!: LimitPolicyView[];
}

export function limitValuesView(l: Partial<Limits>): LimitValuesView {
  const v = (x: number | null | undefined) => x ?? null;
  return {
    requests_per_minute: v(l.rpm),
    tokens_per_minute: v(l.tpm),
    max_concurrent_requests: v(l.concurrency),
    daily_spend: v(l.dailySpend),
    monthly_spend: v(l.monthlySpend),
    soft_daily_spend: v(l.softDailySpend),
    soft_monthly_spend: v(l.softMonthlySpend),
  };
}

export function limitPolicyView(p: LimitPolicyRecord): LimitPolicyView {
  return { object: 'limit_policy', scope: p.scope, key_id: p.keyId, model: p.model, limits: limitValuesView(p.override), set_by_platform_admin: p.lockedByPlatform };
}

export function limitsView(org: OrganizationRecord, effective: Limits, policies: LimitPolicyRecord[]): LimitsView {
  return {
    object: 'organization.limits',
    org_id: org.id,
    tier: org.tier,
    priority: TIER_POLICIES[org.tier].priority,
    effective: limitValuesView(effective),
    policies: policies.map(limitPolicyView),
  };
}

export class AuditEntryView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['audit_log.entry'] }) object!: 'audit_log.entry';
  @ApiProperty() created_at!: number;
  @ApiProperty({ example: 'api_key.revoke' }) action!: string;
  @ApiProperty({ type: String, nullable: true }) org_id!: string | null;
  @ApiProperty({ enum: ['organization', 'api_key', 'limit_policy', 'pool'] }) target_type!: string;
  @ApiProperty({ type: String, nullable: true }) target_id!: string | null;
  @ApiProperty({ description: 'Who: the acting key (all null for the system itself).' }) actor!: { key_id: string | null; key_prefix: string | null; org_id: string | null };
  @ApiProperty({ description: 'From where; ip and user_agent are shown to platform admins only (null for org admins).' }) source!: { ip: string | null; user_agent: string | null; request_id: string | null };
  @ApiProperty({ description: 'What changed (never a secret).' }) details!: Record<string, unknown>;
}

export function auditEntryView(entry: AuditRecord): AuditEntryView {
  return {
    id: entry.id,
    object: 'audit_log.entry',
    created_at: seconds(entry.createdAt),
    action: entry.action,
    org_id: entry.orgId,
    target_type: entry.targetType,
    target_id: entry.targetId,
    actor: { key_id: entry.actorKeyId, key_prefix: entry.actorKeyPrefix, org_id: entry.actorOrgId },
    source: { ip: entry.ip, user_agent: entry.userAgent, request_id: entry.requestId },
    details: entry.details,
  };
}

export class PrincipalView {
  @ApiProperty({ enum: ['principal'] }) object!: 'principal';
  @ApiProperty() org_id!: string;
  @ApiProperty() key_id!: string;
  @ApiProperty() key_prefix!: string;
  @ApiProperty({ enum: TIERS }) tier!: string;
  @ApiProperty({ enum: SCOPES, isArray: true }) scopes!: string[];
  @ApiProperty({ type: [String], nullable: true }) allowed_models!: string[] | null;
  @ApiProperty({ enum: ['platform_admin', 'org_admin'] }) role!: string;
}

export function principalView(p: Principal): PrincipalView {
  return {
    object: 'principal',
    org_id: p.orgId,
    key_id: p.keyId,
    key_prefix: p.keyPrefix,
    tier: p.tier,
    scopes: [...p.scopes],
    allowed_models: p.allowedModels && [...p.allowedModels],
    role: isPlatformAdmin({ principal: p }) ? 'platform_admin' : 'org_admin',
  };
}

export interface ListView<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export function listView<R, T extends { id: string }>(page: Page<R>, view: (r: R) => T): ListView<T> {
  const data = page.data.map(view);
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore };
}

class ListEnvelope {
  @ApiProperty({ enum: ['list'] }) object!: 'list';
  @ApiProperty({ type: String, nullable: true }) first_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) last_id!: string | null;
  @ApiProperty() has_more!: boolean;
}
export class OrganizationListView extends ListEnvelope {
  @ApiProperty({ type: [OrganizationView] }) data!: OrganizationView[];
}
export class ApiKeyListView extends ListEnvelope {
  @ApiProperty({ type: [ApiKeyView] }) data!: ApiKeyView[];
}
export class AuditLogListView extends ListEnvelope {
  @ApiProperty({ type: [AuditEntryView] }) data!: AuditEntryView[];
}
/** A catalogue model as the platform admin manages it (/admin/v1/models). */
export class CatalogModelView {
  @ApiProperty({ example: 'llama-3.1-8b-instruct' }) id!: string;
  @ApiProperty({ enum: ['catalog.model'] }) object!: 'catalog.model';
  @ApiProperty({ enum: ['chat', 'embedding'] }) kind!: string;
  @ApiProperty({ type: [String] }) aliases!: string[];
  @ApiProperty() pool!: string;
  @ApiProperty({ enum: ['sim', 'vllm', 'trtllm'], description: "The pool's runtime." }) runtime!: string;
  @ApiProperty({ description: 'The name sent to the runtime (the pool’s served model).' }) served_model!: string;
  @ApiProperty() context_window!: number;
  @ApiProperty({ type: Number, nullable: true }) max_output_tokens!: number | null;
  @ApiProperty() tokenizer!: string;
  @ApiProperty() input_price_per_mtok!: number;
  @ApiProperty() output_price_per_mtok!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'boolean' } }) capabilities!: Record<string, boolean>;
  @ApiProperty({ type: [String] }) fallbacks!: string[];
  @ApiProperty() owned_by!: string;
  @ApiProperty() created_at!: number;
  @ApiProperty({ required: false, description: 'true in the answer to DELETE.' }) deleted?: boolean;
}

export function catalogModelView(m: CatalogModel): CatalogModelView {
  return {
    id: m.name,
    object: 'catalog.model',
    kind: m.kind,
    aliases: m.aliases,
    pool: m.pool,
    runtime: m.runtime,
    served_model: m.servedModel,
    context_window: m.contextWindow,
    max_output_tokens: m.maxOutputTokens,
    tokenizer: m.tokenizer,
    input_price_per_mtok: m.inputPricePerMTok,
    output_price_per_mtok: m.outputPricePerMTok,
    capabilities: m.capabilities,
    fallbacks: m.fallbacks,
    owned_by: m.ownedBy,
    created_at: seconds(m.createdAt),
  };
}

export class CatalogModelListView {
  @ApiProperty({ enum: ['list'] }) object!: 'list';
  @ApiProperty({ type: [CatalogModelView] }) data!: CatalogModelView[];
}

export class ModelListView {
  @ApiProperty({ enum: ['list'] }) object!: 'list';
  @ApiProperty({ type: [ModelView] }) data!: ModelView[];
}

class ErrorDetail {
  @ApiProperty() message!: string;
  @ApiProperty({ example: 'invalid_request_error' }) type!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The offending field, e.g. `allowed_models[1]`.' }) param!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'invalid_value' }) code!: string | null;
}
export class PoolReplicasView {
  @ApiProperty({ description: "Desired replicas (Kubernetes: the Deployment's spec.replicas)." }) desired!: number;
  @ApiProperty({ description: 'Replicas that exist (status.replicas).' }) current!: number;
  @ApiProperty({ description: 'Replicas passing their readiness probe (status.readyReplicas).' }) ready!: number;
}

export class PoolPodView {
  @ApiProperty({ description: "The pod's id (Kubernetes: the pod's name)." }) id!: string;
  @ApiProperty({ example: 'http://10.1.2.3:8000' }) url!: string;
  @ApiProperty({ enum: ['starting', 'ready', 'draining', 'dead'], description: 'draining: terminating; finishes its requests, takes no new ones.' }) state!: string;
  @ApiProperty({ description: 'Requests this gateway replica has in flight on the pod.' }) in_flight!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Requests running on the pod, as its runtime last reported (null: no recent scrape).' }) running!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Requests waiting in the runtime.' }) waiting!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'KV-cache usage, 0–1, as last scraped.' }) kv_cache_usage!: number | null;
}

export class PoolView {
  @ApiProperty({ enum: ['pool'] }) object!: 'pool';
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['sim', 'vllm', 'trtllm'] }) runtime!: string;
  @ApiProperty({ enum: ['local', 'static', 'kubernetes'] }) provider!: string;
  @ApiProperty({ type: PoolReplicasView, nullable: true, description: 'Null where nothing keeps a count (static pools; kubernetes pools without a deployment).' })
  replicas!: PoolReplicasView | null;
  @ApiProperty({ description: "Requests waiting in this gateway replica's queue for the pool." }) queue_depth!: number;
  @ApiProperty({ type: [PoolPodView] }) pods!: PoolPodView[];
  @ApiProperty({ required: false, description: 'true in the answer to a delete.' }) deleted?: boolean;
}

export class PoolListView {
  @ApiProperty({ enum: ['list'] }) object!: 'list';
  @ApiProperty({ type: [PoolView] }) data!: PoolView[];
}

export function poolView(pool: PoolStatus, queueDepth: number): PoolView {
  return {
    object: 'pool',
    name: pool.name,
    runtime: pool.runtime,
    provider: pool.provider,
    replicas: pool.replicas && { desired: pool.replicas.desired, current: pool.replicas.current, ready: pool.replicas.ready },
    queue_depth: queueDepth,
    pods: pool.pods.map((p) => ({ id: p.id, url: p.url, state: p.state, in_flight: p.inFlight, running: p.running, waiting: p.waiting, kv_cache_usage: p.kvUsage })),
  };
}

export class ErrorView {
  @ApiProperty({ type: ErrorDetail }) error!: ErrorDetail;
}

/** The error answers every admin route can give, in OpenAI's error shape. */
export function AdminErrorResponses(): ClassDecorator {
  return applyDecorators(
    ApiBadRequestResponse({ type: ErrorView, description: 'invalid_value / missing_required_parameter / unsupported_parameter, with `param`' }),
    ApiUnauthorizedResponse({ type: ErrorView, description: 'invalid_api_key: missing, unknown, revoked or expired key' }),
    ApiForbiddenResponse({ type: ErrorView, description: "permission_denied (the key's scopes or role do not allow it) / organization_suspended" }),
    ApiNotFoundResponse({ type: ErrorView, description: "not_found: no such organization or key, or one outside the caller's organization" }),
  );
}
