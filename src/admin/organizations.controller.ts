/** /admin/v1/organizations: organizations and their models (limits: limits.controller.ts). Roles are enforced in the services. */
import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../tenancy/index.js';
import { OrganizationService } from '../tenancy/index.js';
import { CreateOrganizationDto, DEFAULT_PAGE_SIZE, ListQueryDto, UpdateOrganizationDto } from './admin.dto.js';
import { AdminGuard, CurrentActor } from './admin.guard.js';
import { AdminThrottlerGuard } from './admin-throttler.guard.js';
import { AdminValidationPipe } from './admin-validation.pipe.js';
import {
  AdminErrorResponses,
  ModelListView,
  OrganizationListView,
  OrganizationView,
  listView,
  modelView,
  organizationView,
} from './admin.views.js';

@ApiTags('organizations')
@ApiBearerAuth()
@AdminErrorResponses()
@Controller('admin/v1/organizations')
@UseGuards(AdminThrottlerGuard, AdminGuard)
@UsePipes(AdminValidationPipe)
export class OrganizationsController {
  constructor(private readonly orgs: OrganizationService) {}

  @Post()
  @ApiOperation({ summary: 'Create an organization (platform admin)' })
  @ApiCreatedResponse({ type: OrganizationView })
  async create(@CurrentActor() actor: Actor, @Body() body: CreateOrganizationDto): Promise<OrganizationView> {
    return organizationView(await this.orgs.create(actor, { name: body.name, tier: body.tier, allowedModels: body.allowed_models }));
  }

  @Get()
  @ApiOperation({ summary: 'List organizations (an org admin sees its own)' })
  @ApiOkResponse({ type: OrganizationListView })
  async list(@CurrentActor() actor: Actor, @Query() query: ListQueryDto): Promise<OrganizationListView> {
    return listView(await this.orgs.list(actor, { limit: query.limit ?? DEFAULT_PAGE_SIZE, after: query.after }), organizationView);
  }

  @Get(':orgId')
  @ApiOperation({ summary: 'Get an organization' })
  @ApiOkResponse({ type: OrganizationView })
  async get(@CurrentActor() actor: Actor, @Param('orgId') orgId: string): Promise<OrganizationView> {
    return organizationView(await this.orgs.get(actor, orgId));
  }

  @Patch(':orgId')
  @ApiOperation({ summary: 'Update an organization (org admins: name only)' })
  @ApiOkResponse({ type: OrganizationView })
  async update(@CurrentActor() actor: Actor, @Param('orgId') orgId: string, @Body() body: UpdateOrganizationDto): Promise<OrganizationView> {
    return organizationView(await this.orgs.update(actor, orgId, { name: body.name, tier: body.tier, allowedModels: body.allowed_models }));
  }

  @Post(':orgId/suspend')
  @HttpCode(200)
  @ApiOperation({ summary: "Suspend an organization: its keys get 403 on every replica within a second (platform admin)" })
  @ApiOkResponse({ type: OrganizationView })
  async suspend(@CurrentActor() actor: Actor, @Param('orgId') orgId: string): Promise<OrganizationView> {
    return organizationView(await this.orgs.suspend(actor, orgId));
  }

  @Post(':orgId/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reactivate a suspended organization (platform admin)' })
  @ApiOkResponse({ type: OrganizationView })
  async resume(@CurrentActor() actor: Actor, @Param('orgId') orgId: string): Promise<OrganizationView> {
    return organizationView(await this.orgs.resume(actor, orgId));
  }

  @Get(':orgId/models')
  @ApiOperation({ summary: "The catalogue models the organization's keys may use" })
  @ApiOkResponse({ type: ModelListView })
  async models(@CurrentActor() actor: Actor, @Param('orgId') orgId: string): Promise<ModelListView> {
    return { object: 'list', data: (await this.orgs.models(actor, orgId)).map(modelView) };
  }
}
