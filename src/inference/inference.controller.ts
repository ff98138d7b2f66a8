/** OpenAI-compatible routes. Each hands the raw request to the pipeline; nothing hides in decorators. */
import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthService } from '../auth/auth.service.js';
import { INFERENCE, assertModelAllowed } from '../auth/model-access.js';
import { canUseModel } from '../auth/principal.js';
import { CatalogService } from '../catalog/catalog.service.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import { InferencePipeline } from './inference.pipeline.js';

interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

function toOpenAiModels(model: CatalogModel): OpenAiModel[] {
  const created = Math.floor(model.createdAt.getTime() / 1000);
  return [model.name, ...model.aliases].map((id) => ({ id, object: 'model', created, owned_by: model.ownedBy }));
}

@Controller('v1')
export class InferenceController {
  constructor(
    private readonly pipeline: InferencePipeline,
    private readonly auth: AuthService,
    private readonly catalog: CatalogService,
  ) {}

  @Post('chat/completions')
  @HttpCode(200)
  chatCompletions(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.pipeline.handle('chat.completions', req, reply);
  }

  @Post('completions')
  @HttpCode(200)
  completions(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.pipeline.handle('completions', req, reply);
  }

  @Post('embeddings')
  @HttpCode(200)
  embeddings(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.pipeline.handle('embeddings', req, reply);
  }

  /** Lists only the models this key may use: others are not revealed. */
  @Get('models')
  @HttpCode(200)
  async listModels(@Req() req: FastifyRequest): Promise<{ object: 'list'; data: OpenAiModel[] }> {
    const principal = await this.auth.authenticate(req.headers.authorization, INFERENCE);
    return { object: 'list', data: this.catalog.listModels().filter((m) => canUseModel(principal, m.name)).flatMap(toOpenAiModels) };
  }

  @Get('models/:id')
  async getModel(@Req() req: FastifyRequest, @Param('id') id: string): Promise<OpenAiModel> {
    const principal = await this.auth.authenticate(req.headers.authorization, INFERENCE);
    const model = this.catalog.resolve(id);
    assertModelAllowed(principal, model, id);
    return toOpenAiModels(model).find((m) => m.id === id)!;
  }
}
