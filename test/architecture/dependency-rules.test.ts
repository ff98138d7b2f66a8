/**
 * The module rules of docs/architecture.md hold on src/, and the checker catches what they forbid:
 * each case plants one bad import in a small tree of its own and expects that rule to fire.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Result {
  violations: { rule: string; from: string; to: string }[];
  moduleCycles: string[][];
  modulesCruised: number;
}
const { checkArchitecture } = (await import(pathToFileURL(path.join(ROOT, 'scripts/architecture/check.mjs')).href)) as {
  checkArchitecture(baseDir?: string): Promise<Result>;
};

const trees: string[] = [];
after(() => trees.forEach((t) => rmSync(t, { recursive: true, force: true })));

/** A tree of `files` (path → source) plus a clean baseline: errors ← config, tenancy → config. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sy-arch-'));
  trees.push(dir);
  const all: Record<string, string> = {
    'src/errors/index.ts': "export { ErrorCode } from './error-codes.js';\n",
    'src/errors/error-codes.ts': 'export enum ErrorCode { A = "a" }\n',
    'src/config/index.ts': "export const port = 1;\n",
    'src/tenancy/index.ts': "import { port } from '../config/index.js';\nexport const tenancyPort = port;\n",
    ...files,
  };
  for (const [file, source] of Object.entries(all)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), source);
  }
  return dir;
}

describe('module rules', () => {
  it('src/ has no upward import, no reach into another module, no cycle', async () => {
    const result = await checkArchitecture();
    assert.ok(result.modulesCruised > 50, `cruised only ${result.modulesCruised} files`);
    assert.deepEqual(result.violations, []);
    assert.deepEqual(result.moduleCycles, []);
  });

  it('passes a clean tree', async () => {
    const result = await checkArchitecture(tree({}));
    assert.deepEqual(result.violations, []);
    assert.deepEqual(result.moduleCycles, []);
  });

  it('fails on a planted upward import, type-only included', async () => {
    const dir = tree({
      'src/inference/index.ts': 'export interface Handled { ok: boolean }\n',
      'src/config/index.ts': "import type { Handled } from '../inference/index.js';\nexport const port = 1;\nexport type H = Handled;\n",
    });
    const { violations } = await checkArchitecture(dir);
    assert.deepEqual(
      violations.map((v) => `${v.rule} ${v.from} ${v.to}`),
      ['no-upward-from-infra src/config/index.ts src/inference/index.ts'],
    );
  });

  it("fails on a reach into another module's files", async () => {
    const { violations } = await checkArchitecture(
      tree({ 'src/tenancy/index.ts': "import { ErrorCode } from '../errors/error-codes.js';\nexport const c = ErrorCode.A;\n" }),
    );
    assert.deepEqual(
      violations.map((v) => `${v.rule} ${v.from} ${v.to}`),
      ['no-internals src/tenancy/index.ts src/errors/error-codes.ts'],
    );
  });

  it('fails on a cycle between two modules of one row', async () => {
    const { violations, moduleCycles } = await checkArchitecture(
      tree({
        'src/quota/index.ts': "import { b } from '../auth/index.js';\nexport const a = () => b;\n",
        'src/auth/index.ts': "import { a } from '../quota/index.js';\nexport const b = () => a;\n",
      }),
    );
    assert.ok(violations.some((v) => v.rule === 'no-circular'));
    assert.deepEqual(moduleCycles, [['auth', 'quota', 'auth']]);
  });

  it('fails when the product imports the simulator', async () => {
    const dir = tree({
      'runtimes/sim/spawn.ts': 'export const spawnSimPod = () => 1;\n',
      'src/fleet/index.ts': "import { spawnSimPod } from '../../runtimes/sim/spawn.js';\nexport const x = spawnSimPod;\n",
    });
    const { violations } = await checkArchitecture(dir);
    assert.ok(violations.some((v) => v.rule === 'no-test-doubles-in-product' && v.to === 'runtimes/sim/spawn.ts'), JSON.stringify(violations));
  });

  it('fails on a folder that is not placed in a layer', async () => {
    const { violations } = await checkArchitecture(tree({ 'src/misc/index.ts': "import { port } from '../config/index.js';\nexport const p = port;\n" }));
    assert.ok(violations.some((v) => v.rule === 'layers-declared' && v.from === 'src/misc/index.ts'), JSON.stringify(violations));
  });
});
