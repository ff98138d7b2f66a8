/**
 * The module layers of src/ and the import rules that keep them (docs/architecture.md, "Modules and
 * layers"). Checked by `npm test` (scripts/architecture/check.mjs) before any suite runs.
 *
 * Rows, top to bottom. A module may import modules of lower rows; a module of its own row only through
 * that module's public surface (its index.ts) and never in a cycle; nothing of a higher row. The
 * Prisma client is generated into src/generated and only repositories (and database/) may touch it.
 */
const { LAYERS } = require('./scripts/architecture/layers.cjs');

const esc = (s) => s.replace(/[.]/g, '\\.');
const pathOf = (modules) => `^src/(${modules.map(esc).join('|')})(/|$)`;

const upward = LAYERS.slice(1).map((layer, i) => ({
  name: `no-upward-from-${layer.name}`,
  comment: `${layer.name} may not import ${LAYERS.slice(0, i + 1).map((l) => l.name).join(', ')}`,
  severity: 'error',
  from: { path: pathOf(layer.modules) },
  to: { path: pathOf(LAYERS.slice(0, i + 1).flatMap((l) => l.modules)) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-internals',
      comment: "another module is used through its public surface (its index.ts), not its files",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/generated/'] },
    },
    {
      name: 'prisma-in-repositories',
      comment: 'the generated Prisma client is used only by repositories and the database module',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/database/', '\\.repository\\.ts$', '^src/generated/'] },
      to: { path: '^src/generated/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-test-doubles-in-product',
      comment: 'the product never imports the simulator, tests or benchmarks (the local fleet provider runs the simulator as a command)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(runtimes|test|bench)/' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles between files',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'layers-declared',
      comment: 'every folder of src/ is a module placed in a layer above',
      severity: 'error',
      from: { path: '^src/', pathNot: pathOf(LAYERS.flatMap((l) => l.modules)) },
      to: {},
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['\\.spec\\.ts$', '^src/generated/'] },
  },
};
