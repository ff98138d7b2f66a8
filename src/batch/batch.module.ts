/** Deferred work: one BullMQ queue per pool, workers that feed it through the scheduler's batch class. */
import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module.js';
import { DispatchModule } from '../dispatch/dispatch.module.js';
import { PromptModule } from '../prompt/prompt.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { DeferredWorkService } from './deferred-work.service.js';

@Module({ imports: [CatalogModule, PromptModule, RoutingModule, DispatchModule], providers: [DeferredWorkService], exports: [DeferredWorkService] })
export class BatchModule {}
