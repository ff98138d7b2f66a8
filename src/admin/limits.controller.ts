/**
 * /admin/v1/organizations/:orgId/limits — rate limits, concurrency and spend budgets per organization,
 * per key and per model. Changes reach every replica within a second (invalidation bus).
 */
import { Body, Controller, Get, Param, Put, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CatalogService } from '../catalog/index.js';
import type { LimitOverride } from '../quota/index.js';
import { LimitPolicyService, type LimitTarget } from '../quota/index.js';
import type { Actor } from '../tenancy/index.js';
import { ApiKeyService } from '../tenancy/index.js';
import { OrganizationService } from '../tenancy/index.js';
import { LimitsDto } from './admin.dto.js';
import { AdminGuard, CurrentActor } from './admin.guard.js';
import { AdminThrottlerGuard } from './admin-throttler.guard.js';
import { AdminValidationPipe } from './admin-validation.pipe.js';
import { AdminErrorResponses, LimitsView, limitsView } from './admin.views.js';

function toOverride(dto: LimitsDto): LimitOverride {
  const pairs: Array<[keyof LimitOverride, number | null | undefined]> = [
    ['rpm', dto.requests_per_minute],
    ['tpm', dto.tokens_per_minute],
    ['concurrency', dto.max_concurrent_requests],
    ['dailySpend', dto.daily_spend],
    ['monthlySpend', dto.monthly_spend],
    ['softDailySpend', dto.soft_daily_spend],
    ['softMonthlySpend', dto.soft_monthly_spend],
  ];
  return Object.fromEntries(pairs.filter(([, v]) => v !== undefined && v !== null));
}

@ApiTags('limits')
@ApiBearerAuth()
@AdminErrorResponses()
@Controller('admin/v1/organizations/:orgId')
@UseGuards(AdminThrottlerGuard, AdminGuard)
@UsePipes(AdminValidationPipe)
export class LimitsController {
  constructor(
    private readonly orgs: OrganizationService,
    private readonly keys: ApiKeyService,
    private readonly catalog: CatalogService,
    private readonly limits: LimitPolicyService,
  ) {}

  @Get('limits')
  @ApiOperation({ summary: "The organization's effective limits and every override in it" })
  @ApiOkResponse({ type: LimitsView })
  async get(@CurrentActor() actor: Actor, @Param('orgId') orgId: string): Promise<LimitsView> {
    return this.view(actor, orgId);
  }

  @Put('limits')
  @ApiOperation({ summary: "Override the tier's default limits for the organization (platform admin)" })
  @ApiOkResponse({ type: LimitsView })
  async setOrg(@CurrentActor() actor: Actor, @Param('orgId') orgId: string, @Body() body: LimitsDto): Promise<LimitsView> {
    return this.set(actor, { scope: 'org', orgId }, body);
  }

  @Put('keys/:keyId/limits')
  @ApiOperation({ summary: 'Limit one key of the organization (org admins: their own organization)' })
  @ApiOkResponse({ type: LimitsView })
  async setKey(@CurrentActor() actor: Actor, @Param('orgId') orgId: string, @Param('keyId') keyId: string, @Body() body: LimitsDto): Promise<LimitsView> {
    await this.keys.get(actor, orgId, keyId); // 404 unless the key is in this (visible) organization
    return this.set(actor, { scope: 'key', orgId, keyId }, body);
  }

  @Put('models/:model/limits')
  @ApiOperation({ summary: "Limit the organization's use of one model (platform admin)" })
  @ApiOkResponse({ type: LimitsView })
  async setModel(@CurrentActor() actor: Actor, @Param('orgId') orgId: string, @Param('model') model: string, @Body() body: LimitsDto): Promise<LimitsView> {
    return this.set(actor, { scope: 'model', orgId, model: this.catalog.resolve(model).name }, body);
  }

  private async set(actor: Actor, target: LimitTarget, body: LimitsDto): Promise<LimitsView> {
    await this.orgs.get(actor, target.orgId);
    await this.limits.set(actor, target, toOverride(body));
    return this.view(actor, target.orgId);
  }

  private async view(actor: Actor, orgId: string): Promise<LimitsView> {
    const org = await this.orgs.get(actor, orgId);
    const { effective, policies } = await this.limits.describe(actor, orgId, org.tier);
    return limitsView(org, effective, policies);
  }
}
