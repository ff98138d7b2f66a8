/** /admin/v1/organizations/:orgId/keys: create, list, read, revoke and rotate API keys. */
import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../tenancy/index.js';
import { ApiKeyService } from '../tenancy/index.js';
import { CreateApiKeyDto, DEFAULT_PAGE_SIZE, ListApiKeysQueryDto, RotateApiKeyDto } from './admin.dto.js';
import { AdminGuard, CurrentActor } from './admin.guard.js';
import { AdminThrottlerGuard } from './admin-throttler.guard.js';
import { AdminValidationPipe } from './admin-validation.pipe.js';
import { AdminErrorResponses, ApiKeyListView, ApiKeyView, CreatedApiKeyView, RotatedApiKeyView, apiKeyView, listView } from './admin.views.js';

@ApiTags('api keys')
@ApiBearerAuth()
@AdminErrorResponses()
@Controller('admin/v1/organizations/:orgId/keys')
@UseGuards(AdminThrottlerGuard, AdminGuard)
@UsePipes(AdminValidationPipe)
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyService) {}

  @Post()
  @ApiOperation({ summary: 'Create a key; the secret is in this response only' })
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  async create(@CurrentActor() actor: Actor, @Param('orgId') orgId: string, @Body() body: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    const { key, secret } = await this.keys.create(actor, orgId, {
      name: body.name,
      scopes: body.scopes,
      allowedModels: body.allowed_models,
      expiresAt: body.expires_at == null ? null : new Date(body.expires_at * 1000),
    });
    return { ...apiKeyView(key), secret };
  }

  @Get()
  @ApiOperation({ summary: "List the organization's keys (prefixes only)" })
  @ApiOkResponse({ type: ApiKeyListView })
  async list(@CurrentActor() actor: Actor, @Param('orgId') orgId: string, @Query() query: ListApiKeysQueryDto): Promise<ApiKeyListView> {
    const page = await this.keys.list(actor, orgId, { limit: query.limit ?? DEFAULT_PAGE_SIZE, after: query.after }, query.include_revoked ?? false);
    return listView(page, (k) => apiKeyView(k));
  }

  @Get(':keyId')
  @ApiOperation({ summary: 'Get a key (prefix only)' })
  @ApiOkResponse({ type: ApiKeyView })
  async get(@CurrentActor() actor: Actor, @Param('orgId') orgId: string, @Param('keyId') keyId: string): Promise<ApiKeyView> {
    return apiKeyView(await this.keys.get(actor, orgId, keyId));
  }

  @Post(':keyId/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke a key: refused on every replica within a second' })
  @ApiOkResponse({ type: ApiKeyView })
  async revoke(@CurrentActor() actor: Actor, @Param('orgId') orgId: string, @Param('keyId') keyId: string): Promise<ApiKeyView> {
    return apiKeyView(await this.keys.revoke(actor, orgId, keyId));
  }

  @Post(':keyId/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replace a key with a new secret (same settings); the old one is revoked, or expires after grace_seconds' })
  @ApiOkResponse({ type: RotatedApiKeyView })
  async rotate(@CurrentActor() actor: Actor, @Param('orgId') orgId: string, @Param('keyId') keyId: string, @Body() body: RotateApiKeyDto): Promise<RotatedApiKeyView> {
    const { key, secret, old } = await this.keys.rotate(actor, orgId, keyId, body.grace_seconds ?? 0);
    return { ...apiKeyView(key), secret, replaced: apiKeyView(old) };
  }
}
