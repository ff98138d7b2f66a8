/** The public surface of the inference module: what other modules may import (docs/architecture.md). */
export { InferenceModule } from './inference.module.js';
export { InferencePipeline } from './inference.pipeline.js';
export { registerInferenceRoutes } from './inference.routes.js';
