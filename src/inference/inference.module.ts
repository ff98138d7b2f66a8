/** The /v1 API: the request pipeline (plain Fastify routes), the SSE relay, the finalizer, /v1/models. */
import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { CatalogModule } from '../catalog/catalog.module.js';
import { DispatchModule } from '../dispatch/dispatch.module.js';
import { EdgeModule } from '../edge/edge.module.js';
import { PromptModule } from '../prompt/prompt.module.js';
import { QuotaModule } from '../quota/quota.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { ValidationModule } from '../validation/validation.module.js';
import { InferenceController } from './inference.controller.js';
import { InferencePipeline } from './inference.pipeline.js';
import { RequestFinalizer } from './request-finalizer.js';

@Module({
  imports: [EdgeModule, AuthModule, ValidationModule, CatalogModule, PromptModule, QuotaModule, RoutingModule, DispatchModule],
  controllers: [InferenceController],
  providers: [RequestFinalizer, InferencePipeline],
  exports: [InferencePipeline],
})
export class InferenceModule {}
