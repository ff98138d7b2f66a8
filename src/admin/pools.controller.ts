/**
 * /admin/v1/pools — the pools of runtime pods: replica counts (desired, current, ready), this replica's
 * queue depth, each pod's load and KV-cache usage; and scaling (platform admins only, audited), which
 * goes through the pool's provider — for a kubernetes pool, the Deployment's `scale` subresource, the
 * same one `kubectl scale` writes. New pods join rotation as they turn Ready; removed ones drain.
 */
import { Body, Controller, Get, HttpCode, Param, Put, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ApiError, ErrorCode } from '../errors/index.js';
import { FleetService, type PoolStatus } from '../fleet/index.js';
import { SchedulerService } from '../scheduler/index.js';
import { type Actor, assertPlatformAdmin, auditEntry, AuditLogRepository } from '../tenancy/index.js';
import { PoolReplicasDto } from './admin.dto.js';
import { AdminGuard, CurrentActor } from './admin.guard.js';
import { AdminThrottlerGuard } from './admin-throttler.guard.js';
import { AdminValidationPipe } from './admin-validation.pipe.js';
import { AdminErrorResponses, ErrorView, PoolListView, PoolView, poolView } from './admin.views.js';

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
  ) {}

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
}
