/** The public surface of the runtimes module: what other modules may import (docs/architecture.md). */
export { adapterFor } from './adapters.js';
export type { InferenceEndpoint, RuntimeAdapter, RuntimeKind, RuntimeSnapshot } from './runtime-adapter.js';
export type { Usage } from './usage.js';
