/** The module layers of src/, top to bottom (docs/architecture.md, "Modules and layers"). */
const LAYERS = [
  { name: 'boot', modules: ['main.ts', 'gateway.ts', 'app.module.ts'] },
  { name: 'app', modules: ['inference', 'admin', 'batch', 'health', 'autoscaler'] },
  { name: 'stages', modules: ['edge', 'auth', 'validation', 'prompt', 'safety', 'quota', 'routing', 'scheduler', 'dispatch', 'usage'] },
  { name: 'domain', modules: ['tenancy', 'catalog', 'fleet', 'runtimes'] },
  { name: 'infra', modules: ['config', 'database', 'redis', 'observability', 'errors', 'clock', 'generated'] },
];

module.exports = { LAYERS };
