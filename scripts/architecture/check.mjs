// The dependency rules of src/ (.dependency-cruiser.cjs, layers in layers.cjs), checked on the
// TypeScript sources (type-only imports count): upward imports, reaches into another module's files,
// the Prisma client outside repositories, the product importing the simulator, file cycles — and
// cycles between modules (folders), which file-level checks can miss.
// `node scripts/architecture/check.mjs [dir]` prints the violations and exits 1 when there are any.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The module (folder under src/, or a boot file) a path belongs to, or undefined outside src/. */
function moduleOf(file) {
  const m = /^src\/([^/]+)/.exec(file);
  return m?.[1];
}

/** Cycles in the module graph (each as a list of modules), found by DFS. */
export function moduleCycles(edges) {
  const graph = new Map();
  for (const [a, b] of edges) {
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a).add(b);
  }
  const cycles = [];
  const state = new Map();
  const stack = [];
  const visit = (n) => {
    state.set(n, 'open');
    stack.push(n);
    for (const next of graph.get(n) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

/**
 * Checks the tree under `baseDir` (default: this repository). Returns the rule violations
 * ({rule, from, to}) and the module cycles.
 */
export async function checkArchitecture(baseDir = ROOT) {
  const config = require(path.join(ROOT, '.dependency-cruiser.cjs'));
  const cwd = process.cwd();
  process.chdir(baseDir);
  try {
    const result = await cruise(['src'], { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true });
    const output = result.output;
    const violations = output.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
    const edges = [];
    for (const m of output.modules) {
      const from = moduleOf(m.source);
      if (!from) continue;
      for (const d of m.dependencies) {
        const to = moduleOf(d.resolved);
        if (to && to !== from) edges.push([from, to]);
      }
    }
    return { violations, moduleCycles: moduleCycles(edges), modulesCruised: output.summary.totalCruised };
  } finally {
    process.chdir(cwd);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { violations, moduleCycles: cycles, modulesCruised } = await checkArchitecture(process.argv[2] ? path.resolve(process.argv[2]) : ROOT);
  for (const v of violations) console.error(`  ✗ ${v.rule}: ${v.from} → ${v.to}`);
  for (const c of cycles) console.error(`  ✗ module cycle: ${c.join(' → ')}`);
  if (violations.length || cycles.length) {
    console.error(`architecture: ${violations.length} rule violations, ${cycles.length} module cycles (rules: .dependency-cruiser.cjs, docs/architecture.md)`);
    process.exit(1);
  }
  console.log(`architecture: ${modulesCruised} files, no violations, no module cycles`);
}
