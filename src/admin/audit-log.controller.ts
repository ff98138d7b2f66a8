/** /admin/v1/audit-log and /admin/v1/me. */
import { Controller, Get, Query, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../tenancy/index.js';
import { AuditLogService } from '../tenancy/index.js';
import { AuditLogQueryDto, DEFAULT_PAGE_SIZE } from './admin.dto.js';
import { AdminGuard, CurrentActor } from './admin.guard.js';
import { AdminThrottlerGuard } from './admin-throttler.guard.js';
import { AdminValidationPipe } from './admin-validation.pipe.js';
import { AdminErrorResponses, AuditLogListView, PrincipalView, auditEntryView, listView, principalView } from './admin.views.js';

@ApiTags('audit')
@ApiBearerAuth()
@AdminErrorResponses()
@Controller('admin/v1')
@UseGuards(AdminThrottlerGuard, AdminGuard)
@UsePipes(AdminValidationPipe)
export class AuditLogController {
  constructor(private readonly audit: AuditLogService) {}

  @Get('audit-log')
  @ApiOperation({ summary: 'Mutating admin calls, newest first (an org admin sees its own organization)' })
  @ApiOkResponse({ type: AuditLogListView })
  async list(@CurrentActor() actor: Actor, @Query() query: AuditLogQueryDto): Promise<AuditLogListView> {
    return listView(await this.audit.list(actor, query.org_id, { limit: query.limit ?? DEFAULT_PAGE_SIZE, after: query.after }), auditEntryView);
  }

  @Get('me')
  @ApiOperation({ summary: 'The calling key: organization, scopes, role' })
  @ApiOkResponse({ type: PrincipalView })
  me(@CurrentActor() actor: Actor): PrincipalView {
    return principalView(actor.principal!);
  }
}
