/** Model → pool with fallback chains; builds the scheduler's ticket once per request. */
import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/index.js';
import { PromptModule } from '../prompt/index.js';
import { SchedulerModule } from '../scheduler/index.js';
import { ModelRouter } from './model-router.js';

@Module({ imports: [CatalogModule, PromptModule, SchedulerModule], providers: [ModelRouter], exports: [ModelRouter] })
export class RoutingModule {}
