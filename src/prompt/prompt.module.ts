/** Chat templates and tokenizers: exact prompt token counts and the context-window plan. */
import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/index.js';
import { PromptService } from './prompt.service.js';

@Module({ imports: [CatalogModule], providers: [PromptService], exports: [PromptService] })
export class PromptModule {}
