/** The /v1 API: the request pipeline (plain Fastify routes), the SSE relay, the finalizer, /v1/models. */
import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/index.js';
import { CatalogModule } from '../catalog/index.js';
import { DispatchModule } from '../dispatch/index.js';
import { EdgeModule } from '../edge/index.js';
import { PromptModule } from '../prompt/index.js';
import { QuotaModule } from '../quota/index.js';
import { RoutingModule } from '../routing/index.js';
import { ValidationModule } from '../validation/index.js';
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
