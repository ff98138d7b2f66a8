/** Deferred work: one BullMQ queue per pool, workers that feed it through the scheduler's batch class. */
import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/index.js';
import { DispatchModule } from '../dispatch/index.js';
import { PromptModule } from '../prompt/index.js';
import { RoutingModule } from '../routing/index.js';
import { DeferredWorkService } from './deferred-work.service.js';

@Module({ imports: [CatalogModule, PromptModule, RoutingModule, DispatchModule], providers: [DeferredWorkService], exports: [DeferredWorkService] })
export class BatchModule {}
