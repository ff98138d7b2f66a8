/**
 * /admin/v1/pools — the pools of runtime pods, managed at run time like models (PostgreSQL holds them;
 * a change is audited in the same transaction and every replica starts, restarts or drains the pool's
 * provider on the invalidation bus; local pools stay config-only). Also: replica counts (desired, current, ready), this replica's
 * queue depth, each pod's load and KV-cache usage; and scaling (platform admins only, audited), which
 * goes through the pool's provider — for a kubernetes pool, the Deployment's `scale` subresource, the
 * same one `kubectl scale` writes. New pods join rotation as they turn Ready; removed ones drain.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { CatalogService } from '../catalog/index.js';
import { ApiError, ErrorCode } from '../errors/index.js';
import { FleetService, type PoolStatus } from '../fleet/index.js';
import { SchedulerService } from '../scheduler/index.js';
import { type Actor, assertPlatformAdmin, auditEntry, AuditLogRepository } from '../tenancy/index.js';
import { PoolReplicasDto } from './admin.dto.js';
import { AdminGuard, CurrentActor } from './admin.guard.js';
import { AdminThrottlerGuard } from './admin-throttler.guard.js';
import { AdminValidationPipe } from './admin-validation.pipe.js';
import { AdminErrorResponses, ErrorView, PoolListView, PoolView, poolView } from './admin.views.js';

/** The request body: a pool as the catalogue file gives it (the same validation). */
const POOL_BODY = {
  type: 'object',
  required: ['name', 'runtime', 'provider', 'servedModel'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]*$' },
    runtime: { enum: ['vllm', 'trtllm', 'sim'] },
    provider: { enum: ['static', 'kubernetes'], description: 'local pools are configured in the catalogue file only' },
    servedModel: { type: 'string', description: 'The model name the runtime serves (vLLM --served-model-name).' },
    replicas: { type: 'integer', minimum: 0, maximum: 64 },
    endpoints: { type: 'array', items: { type: 'string' }, description: 'static: base URLs of the pods.' },
    kubernetes: {
      type: 'object',
      description: 'kubernetes: namespace, and deployment + selector + port, or inferencePool.',
      properties: {
        namespace: { type: 'string' },
        deployment: { type: 'string' },
        selector: { type: 'object', additionalProperties: { type: 'string' } },
        port: { type: 'integer' },
        inferencePool: { type: 'string' },
      },
    },
  },
  example: { name: 'llama-8b-b', runtime: 'vllm', provider: 'static', servedModel: 'meta-llama/Llama-3.1-8B-Instruct', endpoints: ['http://10.0.0.7:8000'] },
};

@ApiTags('pools')
@ApiBearerAuth()
@AdminErrorResponses()
@Controller('admin/v1/pools')
@UseGuards(AdminThrottlerGuard, AdminGuard)
@UsePipes(AdminValidationPipe)
export class PoolsController {
  constructor(
    private readonly fleet: FleetService,
    private readonly scheduler: SchedulerService,
    private readonly audit: AuditLogRepository,
    private readonly catalog: CatalogService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Add a pool (static or kubernetes): every replica starts its provider, no restart (platform admin)' })
  @ApiBody({ schema: POOL_BODY })
  @ApiCreatedResponse({ type: PoolView })
  @ApiConflictResponse({ type: ErrorView, description: 'conflict: a pool has the name' })
  async create(@CurrentActor() actor: Actor, @Body() body: Record<string, unknown>): Promise<PoolView> {
    assertPlatformAdmin(actor, 'add pools');
    const pool = await this.catalog.createPool(body, this.entry(actor, 'pool.create', String(body?.name ?? ''), body));
    return this.view(pool.name);
  }

  @Patch(':pool')
  @ApiOperation({ summary: "Change a pool: the fields given replace the stored ones (null removes one); every replica restarts its provider, pods whose URL changed drain (platform admin)" })
  @ApiBody({ schema: { ...POOL_BODY, required: [] } })
  @ApiOkResponse({ type: PoolView })
  async update(@CurrentActor() actor: Actor, @Param('pool') name: string, @Body() body: Record<string, unknown>): Promise<PoolView> {
    assertPlatformAdmin(actor, 'change pools');
    await this.catalog.updatePool(name, body ?? {}, this.entry(actor, 'pool.update', name, body));
    return this.view(name);
  }

  @Delete(':pool')
  @ApiOperation({ summary: 'Delete a pool: every replica drains its pods (in-flight requests finish) (platform admin)' })
  @ApiOkResponse({ type: PoolView, description: 'The deleted pool, as it was.' })
  @ApiConflictResponse({ type: ErrorView, description: 'conflict: a model is served by the pool' })
  async remove(@CurrentActor() actor: Actor, @Param('pool') name: string): Promise<PoolView> {
    assertPlatformAdmin(actor, 'delete pools');
    const before = await this.view(name).catch(() => undefined);
    const pool = await this.catalog.deletePool(name, this.entry(actor, 'pool.delete', name));
    await this.fleet.settled();
    return { ...(before ?? { object: 'pool', name: pool.name, runtime: pool.runtime, provider: pool.provider, replicas: null, queue_depth: 0, pods: [] }), deleted: true } as PoolView;
  }

  @Get()
  @ApiOperation({ summary: 'Every pool: replicas (desired, current, ready), queue depth, and per pod its state, load and KV-cache usage' })
  @ApiOkResponse({ type: PoolListView })
  async list(): Promise<PoolListView> {
    const pools = await this.fleet.describe();
    return { object: 'list', data: pools.map((p) => poolView(p, this.scheduler.queued(p.name))) };
  }

  @Put(':pool/replicas')
  @HttpCode(200)
  @ApiOperation({ summary: "Set a pool's desired replicas (platform admin; kubernetes: the Deployment's scale subresource)" })
  @ApiOkResponse({ type: PoolView })
  @ApiServiceUnavailableResponse({ type: ErrorView, description: 'fleet_unavailable: the Kubernetes API refused or could not be reached' })
  async scale(@CurrentActor() actor: Actor, @Param('pool') pool: string, @Body() body: PoolReplicasDto): Promise<PoolView> {
    assertPlatformAdmin(actor, 'scale pools');
    const [before] = await this.fleet.describe(pool);
    if (!before) throw new ApiError(ErrorCode.NotFound, `No pool named '${pool}'.`, 'pool');
    await this.fleet.scale(pool, body.replicas);
    await this.audit.append(auditEntry(actor, 'pool.scale', { orgId: null, type: 'pool', id: pool }, { replicas: body.replicas, previous: before.replicas?.desired ?? null }));
    const [after] = (await this.fleet.describe(pool)) as [PoolStatus];
    return poolView(after, this.scheduler.queued(pool));
  }

  /** The pool as this replica's fleet runs it, once the catalogue change is applied here. */
  private async view(pool: string): Promise<PoolView> {
    await this.fleet.settled();
    const [status] = await this.fleet.describe(pool);
    if (!status) throw new ApiError(ErrorCode.NotFound, `No pool named '${pool}'.`, 'pool');
    return poolView(status, this.scheduler.queued(pool));
  }

  private entry(actor: Actor, action: string, pool: string, details: Record<string, unknown> = {}) {
    return auditEntry(actor, action, { orgId: null, type: 'pool', id: pool }, { ...details });
  }
}

