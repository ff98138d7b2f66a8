/** The public surface of the prompt module: what other modules may import (docs/architecture.md). */
export { PromptModule } from './prompt.module.js';
export { PromptService } from './prompt.service.js';
export type { PromptPlan } from './prompt.service.js';
