/**
 * /admin/v1/models: the model catalogue at run time (platform admins only). PostgreSQL holds it; a
 * change is audited in the same transaction and reaches every replica through the invalidation bus,
 * with no restart. Models that are deleted stay deleted across restarts (the config seed only fills
 * in models that never existed).
 */
import { Body, Controller, Delete, Get, Param, Patch, Post, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CatalogService, type CatalogModel, type ModelChanges, type ModelDefinition } from '../catalog/index.js';
import { assertPlatformAdmin, auditEntry, type Actor } from '../tenancy/index.js';
import { AdminGuard, CurrentActor } from './admin.guard.js';
import { AdminThrottlerGuard } from './admin-throttler.guard.js';
import { AdminValidationPipe } from './admin-validation.pipe.js';
import { AdminErrorResponses, CatalogModelListView, CatalogModelView, ErrorView, catalogModelView } from './admin.views.js';
import { CreateModelDto, UpdateModelDto } from './models.dto.js';

function changes(body: UpdateModelDto): ModelChanges {
  const pairs: Array<[keyof ModelChanges, unknown]> = [
    ['kind', body.kind],
    ['aliases', body.aliases],
    ['pool', body.pool],
    ['contextWindow', body.context_window],
    ['maxOutputTokens', body.max_output_tokens],
    ['tokenizer', body.tokenizer],
    ['inputPricePerMTok', body.input_price_per_mtok],
    ['outputPricePerMTok', body.output_price_per_mtok],
    ['capabilities', body.capabilities],
    ['fallbacks', body.fallbacks],
    ['ownedBy', body.owned_by],
  ];
  return Object.fromEntries(pairs.filter(([, v]) => v !== undefined));
}

@ApiTags('models')
@ApiBearerAuth()
@AdminErrorResponses()
@ApiConflictResponse({ type: ErrorView, description: 'conflict: the name or an alias is taken, or the model is still a fallback of another' })
@Controller('admin/v1/models')
@UseGuards(AdminThrottlerGuard, AdminGuard)
@UsePipes(AdminValidationPipe)
export class ModelsController {
  constructor(private readonly catalog: CatalogService) {}

  @Get()
  @ApiOperation({ summary: 'List the catalogue (platform admin)' })
  @ApiOkResponse({ type: CatalogModelListView })
  list(@CurrentActor() actor: Actor): CatalogModelListView {
    assertPlatformAdmin(actor, 'read the model catalogue');
    return { object: 'list', data: this.catalog.listModels().map(catalogModelView) };
  }

  @Post()
  @ApiOperation({ summary: 'Add a model: served by every replica within a second, no restart (platform admin)' })
  @ApiCreatedResponse({ type: CatalogModelView })
  async create(@CurrentActor() actor: Actor, @Body() body: CreateModelDto): Promise<CatalogModelView> {
    assertPlatformAdmin(actor, 'add models');
    const model: ModelDefinition = {
      name: body.name,
      kind: body.kind ?? 'chat',
      aliases: body.aliases ?? [],
      pool: body.pool,
      contextWindow: body.context_window,
      maxOutputTokens: body.max_output_tokens ?? null,
      tokenizer: body.tokenizer,
      inputPricePerMTok: body.input_price_per_mtok ?? 0,
      outputPricePerMTok: body.output_price_per_mtok ?? 0,
      capabilities: body.capabilities ?? {},
      fallbacks: body.fallbacks ?? [],
      ownedBy: body.owned_by ?? 'switchyard',
    };
    return catalogModelView(await this.catalog.createModel(model, this.audit(actor, 'model.create', model.name, { ...body })));
  }

  @Get(':model')
  @ApiOperation({ summary: 'Get a model by name or alias (platform admin)' })
  @ApiOkResponse({ type: CatalogModelView })
  get(@CurrentActor() actor: Actor, @Param('model') name: string): CatalogModelView {
    assertPlatformAdmin(actor, 'read the model catalogue');
    return catalogModelView(this.catalog.resolve(name));
  }

  @Patch(':model')
  @ApiOperation({ summary: 'Change a model: pool, aliases, prices, context window, fallbacks, capabilities… (platform admin)' })
  @ApiOkResponse({ type: CatalogModelView })
  async update(@CurrentActor() actor: Actor, @Param('model') name: string, @Body() body: UpdateModelDto): Promise<CatalogModelView> {
    assertPlatformAdmin(actor, 'change models');
    const canonical = this.catalog.resolve(name).name;
    return catalogModelView(await this.catalog.updateModel(canonical, changes(body), this.audit(actor, 'model.update', canonical, { ...body })));
  }

  @Delete(':model')
  @ApiOperation({ summary: 'Delete a model: every replica stops serving it within a second (platform admin)' })
  @ApiOkResponse({ type: CatalogModelView, description: 'The deleted model.' })
  async remove(@CurrentActor() actor: Actor, @Param('model') name: string): Promise<CatalogModelView> {
    assertPlatformAdmin(actor, 'delete models');
    const canonical = this.catalog.resolve(name).name;
    return { ...catalogModelView(await this.catalog.deleteModel(canonical, this.audit(actor, 'model.delete', canonical))), deleted: true };
  }

  private audit(actor: Actor, action: string, model: string, details: Record<string, unknown> = {}) {
    return auditEntry(actor, action, { orgId: null, type: 'model', id: model }, details);
  }
}
