/** OpenAI-compatible model listing. The inference POSTs are plain Fastify routes (inference.routes.ts). */
import { Controller, Get, HttpCode, Param, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthService } from '../auth/index.js';
import { INFERENCE, assertModelAllowed } from '../auth/index.js';
import { canUseModel } from '../tenancy/index.js';
import { CatalogService } from '../catalog/index.js';
import { IpThrottleService } from '../edge/index.js';
import type { CatalogModel } from '../catalog/index.js';

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
    private readonly auth: AuthService,
    private readonly catalog: CatalogService,
    private readonly ipThrottle: IpThrottleService,
  ) {}

  /** Unknown keys pass the per-IP throttle before they may reach the database (as on the POST routes). */
  private principal(req: FastifyRequest) {
    return this.auth.authenticate(req.headers.authorization, INFERENCE, { source: req.ip, beforeLookup: () => this.ipThrottle.check(req.ip) });
  }

  /** Lists only the models this key may use: others are not revealed. */
  @Get('models')
  @HttpCode(200)
  async listModels(@Req() req: FastifyRequest): Promise<{ object: 'list'; data: OpenAiModel[] }> {
    const principal = await this.principal(req);
    return { object: 'list', data: this.catalog.listModels().filter((m) => canUseModel(principal, m.name)).flatMap(toOpenAiModels) };
  }

  @Get('models/:id')
  async getModel(@Req() req: FastifyRequest, @Param('id') id: string): Promise<OpenAiModel> {
    const principal = await this.principal(req);
    const model = this.catalog.resolve(id);
    assertModelAllowed(principal, model, id);
    return toOpenAiModels(model).find((m) => m.id === id)!;
  }
}
