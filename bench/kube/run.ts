/**
 * The kubernetes provider, measured against the test Kubernetes API server (test/support/kube-api):
 *
 * 1. Reaction times, with one pod object whose simulator the benchmark runs (so the pod keeps
 *    answering while it terminates, as a pod with a preStop hook does): from its Ready condition to
 *    the first request the gateway routes to it, and from its deletionTimestamp to the last new
 *    request it gets — under a steady stream of requests to its pool. Observed by polling the pod's
 *    vllm:prompt_tokens_total every 10 ms (the resolution).
 * 2. The cost of a large fleet: `--pools` pools × `--pods-per-pool` pod objects pointing at `--sims`
 *    shared simulator processes (the gateway scrapes every pod every second), and churn — pods replaced
 *    at `--churn-per-s` (delete + create + Ready: 3 watch events each). Gateway CPU (from /proc) per
 *    scrape (idle fleet) and per watch event (churn minus idle), and request latency to one pool with
 *    and without churn over `--rounds` rounds.
 *
 *   npm run bench:kube -- [--pools 50 --pods-per-pool 20 --sims 4 --rounds 3 --window-s 10 --churn-per-s 20]
 *
 * The gateway runs as its own process (dist/src/main.js) on SWITCHYARD_DATABASE_URL (default
 * postgresql://postgres@127.0.0.1:5432/switchyard_bench) and SWITCHYARD_REDIS_URL.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSimPod } from '../../runtimes/sim/spawn.js';
import { TestCluster, type KubeObject } from '../../test/support/kube-api/cluster.js';
import { cpuMs } from '../overhead/procstat.js';
import { writeSection } from '../results.js';
import { children, freePort, progress, sleep, stopAll, terminate } from '../support/processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const SERVED = 'meta-llama/Llama-3.2-1B-Instruct';
const NS = 'default';
const POLL_MS = 10;

const { values: flags } = parseArgs({
  options: {
    pools: { type: 'string', default: '50' },
    'pods-per-pool': { type: 'string', default: '20' },
    sims: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    'window-s': { type: 'string', default: '10' },
    'churn-per-s': { type: 'string', default: '20' },
    'reaction-rounds': { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
  },
});
const POOLS = Number(flags.pools);
const PODS_PER_POOL = Number(flags['pods-per-pool']);
const SIMS = Number(flags.sims);
const ROUNDS = Number(flags.rounds);
const WINDOW_MS = Number(flags['window-s']) * 1000;
const CHURN_PER_S = Number(flags['churn-per-s']);
const REACTION_ROUNDS = Number(flags['reaction-rounds']);
const CONCURRENCY = Number(flags.concurrency);

const poolName = (i: number) => `pool-${String(i).padStart(2, '0')}`;
const MEASURED = 'measured';

function podObject(name: string, pool: string, ip: string, ready: boolean): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: pool } },
    spec: { containers: [] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

function setReady(cluster: TestCluster, name: string, ready: boolean): void {
  const pod = cluster.store.get('pods', NS, name)!;
  cluster.store.update('pods', { ...pod, status: { ...pod.status, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '–');

async function promptTokens(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('vllm:prompt_tokens_total'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const DATABASE_URL = process.env.SWITCHYARD_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/switchyard_bench';
const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The steps `npm test` uses: services up, the database created if missing (the gateway migrates it). */
async function prepareDatabase(): Promise<void> {
  const setup = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'lib', 'setup.mjs')).href)) as {
    ensureServices(databaseUrl: string, redisUrl: string): Promise<void>;
    ensureDatabase(databaseUrl: string): Promise<void>;
  };
  await setup.ensureServices(DATABASE_URL, REDIS_URL);
  await setup.ensureDatabase(DATABASE_URL);
}

async function startGateway(cluster: TestCluster, adminKey: string): Promise<{ pid: number; url: string }> {
  mkdirSync(OUT_DIR, { recursive: true });
  const catalogueFile = path.join(OUT_DIR, 'kube-catalogue.json');
  const pools = [MEASURED, ...Array.from({ length: POOLS }, (_, i) => poolName(i))];
  const unlimited = { rpm: null, tpm: null, concurrency: null, dailySpend: null, monthlySpend: null };
  writeFileSync(
    catalogueFile,
    JSON.stringify({
      pools: pools.map((name) => ({ name, runtime: 'sim', provider: 'kubernetes', servedModel: SERVED, kubernetes: { namespace: NS, selector: { app: name }, port: cluster.podPort } })),
      models: pools.map((name) => ({ name, pool: name, contextWindow: 8192, tokenizer: 'llama3' })),
      tiers: { free: unlimited, standard: unlimited, premium: unlimited, enterprise: unlimited },
    }),
  );
  const port = await freePort();
  const log = createWriteStream(path.join(OUT_DIR, 'kube-gateway.log'));
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      SWITCHYARD_CONFIG_FILE: catalogueFile,
      SWITCHYARD_KUBECONFIG: cluster.kubeconfig(),
      SWITCHYARD_BOOTSTRAP_API_KEY: adminKey,
      SWITCHYARD_KEY_PEPPER: randomBytes(32).toString('base64'),
      SWITCHYARD_PORT: String(port),
      SWITCHYARD_LOG_LEVEL: 'warn',
      SWITCHYARD_DATABASE_URL: DATABASE_URL,
      SWITCHYARD_REDIS_URL: REDIS_URL,
      SWITCHYARD_IP_REQUESTS_PER_MINUTE: '0',
      SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE: '0',
    },
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  children.push({ name: 'gateway', pid: child.pid!, stop: () => terminate(child, 10_000) });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(100)) {
    if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}); see bench/out/kube-gateway.log`);
    const ok = await fetch(`${url}/ready`).then((r) => r.status === 200, () => false);
    if (ok) return { pid: child.pid!, url };
  }
  throw new Error('the gateway was not ready within 120 s; see bench/out/kube-gateway.log');
}

async function inferenceKey(url: string, adminKey: string): Promise<string> {
  const post = async (p: string, body: unknown) => {
    const res = await fetch(`${url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${p}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as any;
  };
  const org = await post('/admin/v1/organizations', { name: `kube bench ${randomBytes(3).toString('hex')}`, tier: 'enterprise' });
  return (await post(`/admin/v1/organizations/${org.id}/keys`, { name: 'kube bench', scopes: ['inference'] })).secret;
}

/** Resolves once the admin API shows the pod as ready in the gateway's fleet. */
async function inRotation(url: string, adminKey: string, pod: string): Promise<void> {
  for (const deadline = performance.now() + 30_000; performance.now() < deadline; await sleep(POLL_MS)) {
    const res = await fetch(`${url}/admin/v1/pools`, { headers: { authorization: `Bearer ${adminKey}` } });
    const pools = (await res.json()) as { data: Array<{ pods: Array<{ id: string; state: string }> }> };
    if (pools.data.some((p) => p.pods.some((x) => x.id === pod && x.state === 'ready'))) return;
  }
  throw new Error(`pod ${pod} not in rotation within 30 s`);
}

/** Keeps `concurrency` requests to `model` in flight until stopped; records each latency (ms). */
function load(url: string, key: string, model: string, concurrency: number) {
  let running = true;
  const latencies: number[] = [];
  let errors = 0;
  const worker = async () => {
    while (running) {
      // A different prompt each time: prefix affinity must not pin the pool to one pod.
      const body = JSON.stringify({ model, messages: [{ role: 'user', content: `ping ${Math.random()}` }], max_tokens: 2 });
      const t = performance.now();
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body }).catch(() => undefined);
      await res?.arrayBuffer();
      if (res?.status === 200) latencies.push(performance.now() - t);
      else errors++;
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    latencies,
    errors: () => errors,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function main(): Promise<void> {
  await prepareDatabase();
  const cluster = new TestCluster({ bookmarkIntervalMs: 5_000 });
  cluster.podPort = await freePort();
  await cluster.api.start();
  const subnet = cluster.kubelet.subnet; // addresses only; no kubelet runs in this benchmark
  progress(`starting ${SIMS} shared simulators and the measured pod's on ${subnet}.x:${cluster.podPort}`);
  const sims = await Promise.all(
    Array.from({ length: SIMS + 1 }, (_, i) => spawnSimPod({ model: SERVED, profile: 'zero', host: `${subnet}.${i + 1}`, port: cluster.podPort, args: ['--max-model-len', '8192'] })),
  );
  for (const sim of sims) children.push({ name: 'sim', pid: sim.pid, stop: sim.stop });
  const sharedIp = (n: number) => `${subnet}.${(n % SIMS) + 1}`;
  const measuredIp = `${subnet}.${SIMS + 1}`;
  const measuredUrl = `http://${measuredIp}:${cluster.podPort}`;

  let serial = 0;
  for (let p = 0; p < POOLS; p++) for (let i = 0; i < PODS_PER_POOL; i++) cluster.store.create('pods', podObject(`${poolName(p)}-${serial++}`, poolName(p), sharedIp(serial), true));
  // The measured pool: one always-ready pod on a shared simulator, plus the measured pod (not Ready yet).
  cluster.store.create('pods', podObject(`${MEASURED}-base`, MEASURED, sharedIp(0), true));
  cluster.store.create('pods', podObject(`${MEASURED}-pod`, MEASURED, measuredIp, false));

  const adminKey = `sk-sy-${randomBytes(24).toString('base64url')}`;
  progress(`starting the gateway (${POOLS} pools × ${PODS_PER_POOL} pods + the measured pool)`);
  const gateway = await startGateway(cluster, adminKey);
  const key = await inferenceKey(gateway.url, adminKey);

  // --- 1. reaction times
  progress(`reaction times, ${REACTION_ROUNDS} rounds`);
  const joinMs: number[] = [];
  const rotationMs: number[] = [];
  const leaveMs: number[] = [];
  const traffic = load(gateway.url, key, MEASURED, CONCURRENCY);
  for (let round = 0; round < REACTION_ROUNDS; round++) {
    const name = `${MEASURED}-pod`;
    let before = await promptTokens(measuredUrl);
    const readyAt = performance.now();
    setReady(cluster, name, true);
    const rotation = inRotation(gateway.url, adminKey, name).then(() => performance.now() - readyAt);
    for (;;) {
      const now = await promptTokens(measuredUrl);
      if (now > before) break;
      if (performance.now() - readyAt > 30_000) throw new Error('the measured pod got no request within 30 s of Ready');
      await sleep(POLL_MS);
    }
    joinMs.push(performance.now() - readyAt);
    rotationMs.push(await rotation);
    await sleep(500); // in steady rotation
    const pod = cluster.store.get('pods', NS, name)!;
    const deletedAt = performance.now();
    cluster.store.update('pods', { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString() } });
    before = await promptTokens(measuredUrl);
    let lastIncrease = deletedAt;
    // Watch for 3 s after the deletion: the last time its counter still rose.
    while (performance.now() - deletedAt < 3_000) {
      const now = await promptTokens(measuredUrl);
      if (now > before) {
        before = now;
        lastIncrease = performance.now();
      }
      await sleep(POLL_MS);
    }
    leaveMs.push(lastIncrease - deletedAt);
    // Back to a fresh not-Ready pod for the next round.
    cluster.store.remove('pods', NS, name);
    cluster.store.create('pods', podObject(name, MEASURED, measuredIp, false));
    await sleep(300);
  }
  await traffic.stop();

  // --- 2. fleet cost
  const totalPods = POOLS * PODS_PER_POOL + 2;
  let churnEvents = 0;
  const unsubscribe = cluster.store.subscribe((e) => {
    if (e.resource === 'pods') churnEvents++;
  });
  const churn = (perSecond: number) => {
    const timer = setInterval(() => {
      for (let k = 0; k < perSecond / 10; k++) {
        const pool = poolName(Math.floor(Math.random() * POOLS));
        const victim = cluster.store.list('pods', NS).find((p) => p.metadata.labels?.app === pool && !p.metadata.name.startsWith(MEASURED));
        if (!victim) continue;
        cluster.store.remove('pods', NS, victim.metadata.name);
        const name = `${pool}-${serial++}`;
        cluster.store.create('pods', podObject(name, pool, sharedIp(serial), false));
        setReady(cluster, name, true);
      }
    }, 100);
    return () => clearInterval(timer);
  };
  const window = async (withChurn: boolean, withLoad: boolean) => {
    const stopChurn = withChurn ? churn(CHURN_PER_S) : () => undefined;
    const traffic = withLoad ? load(gateway.url, key, poolName(0), CONCURRENCY) : undefined;
    await sleep(500); // settle
    const events0 = churnEvents;
    const cpu0 = cpuMs(gateway.pid)!;
    const t0 = performance.now();
    if (traffic) traffic.latencies.length = 0;
    await sleep(WINDOW_MS);
    const cpu = cpuMs(gateway.pid)! - cpu0;
    const seconds = (performance.now() - t0) / 1000;
    const events = churnEvents - events0;
    stopChurn();
    await traffic?.stop();
    return { cpuMsPerS: cpu / seconds, events, eventsPerS: events / seconds, latencies: traffic ? [...traffic.latencies] : [], errors: traffic?.errors() ?? 0 };
  };
  const rows: Array<{ round: number; idleCpu: number; churnCpu: number; eventsPerS: number; usPerScrape: number; usPerEvent: number; p50: number; p99: number; p50c: number; p99c: number; errors: number }> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    progress(`fleet round ${round}/${ROUNDS}: idle, churn, load, load + churn (${WINDOW_MS / 1000} s each)`);
    const idle = await window(false, false);
    const churned = await window(true, false);
    const loaded = await window(false, true);
    const both = await window(true, true);
    rows.push({
      round,
      idleCpu: idle.cpuMsPerS,
      churnCpu: churned.cpuMsPerS,
      eventsPerS: churned.eventsPerS,
      // Idle: the gateway's work is the scrape loop (metrics + health of every pod, every second).
      usPerScrape: (idle.cpuMsPerS * 1000) / totalPods,
      usPerEvent: ((churned.cpuMsPerS - idle.cpuMsPerS) * 1000) / churned.eventsPerS,
      p50: quantile(loaded.latencies, 0.5),
      p99: quantile(loaded.latencies, 0.99),
      p50c: quantile(both.latencies, 0.5),
      p99c: quantile(both.latencies, 0.99),
      errors: loaded.errors + both.errors,
    });
  }
  unsubscribe();

  const spread = (pick: (r: (typeof rows)[number]) => number, d = 0) => {
    const v = rows.map(pick);
    return `${fmt(quantile(v, 0.5), d)} (${fmt(Math.min(...v), d)}–${fmt(Math.max(...v), d)})`;
  };
  const md = [
    '## Kubernetes provider: reaction times and the cost of a large fleet',
    '',
    `\`npm run bench:kube -- --pools ${POOLS} --pods-per-pool ${PODS_PER_POOL} --sims ${SIMS} --rounds ${ROUNDS} --window-s ${WINDOW_MS / 1000} --churn-per-s ${CHURN_PER_S}\` — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg()[0]!.toFixed(1)} at the end (the machine is shared).`,
    'Gateway as its own process against the test Kubernetes API server (test/support/kube-api); pods are objects in its store pointing at shared simulator processes (`zero` profile); scrape interval 1 s.',
    '',
    `**Reaction** (${REACTION_ROUNDS} rounds, ${CONCURRENCY} requests in flight to the pool, pod counters polled every ${POLL_MS} ms): pod Ready → in the gateway's rotation (admin API polled): median ${fmt(quantile(rotationMs, 0.5))} ms, max ${fmt(Math.max(...rotationMs))} ms; → its first routed request: median ${fmt(quantile(joinMs, 0.5))} ms, max ${fmt(Math.max(...joinMs))} ms; deletionTimestamp → last new request on it: median ${fmt(quantile(leaveMs, 0.5))} ms, max ${fmt(Math.max(...leaveMs))} ms (target ≤ 2,000 ms each; a request already sent when the event arrives counts too).`,
    '',
    `**Fleet cost**: ${totalPods} pod objects in ${POOLS + 1} pools on ${SIMS} shared simulators; churn replaces ${CHURN_PER_S} pods/s (delete, create, Ready: 3 watch events each). Per round: 4 windows of ${WINDOW_MS / 1000} s — idle, churn, load (${CONCURRENCY} in flight to one pool, 2-token completions), load + churn. Median (min–max) over ${ROUNDS} rounds:`,
    '',
    '| gateway CPU idle (ms/s) | CPU with churn (ms/s) | watch events/s | CPU µs per scrape (metrics + health of one pod) | CPU µs per watch event | latency p50 / p99 (ms) | with churn p50 / p99 (ms) | failed requests |',
    '|---|---|---|---|---|---|---|---|',
    `| ${spread((r) => r.idleCpu)} | ${spread((r) => r.churnCpu)} | ${spread((r) => r.eventsPerS)} | ${spread((r) => r.usPerScrape)} | ${spread((r) => r.usPerEvent)} | ${spread((r) => r.p50, 1)} / ${spread((r) => r.p99, 1)} | ${spread((r) => r.p50c, 1)} / ${spread((r) => r.p99c, 1)} | ${rows.reduce((a, r) => a + r.errors, 0)} |`,
    '',
    'CPU per scrape is the idle gateway\'s CPU divided by pods scraped per second (it includes the per-second tick\'s other work); CPU per watch event is the extra CPU of the churn window over the idle one, divided by the events delivered.',
  ].join('\n');
  writeSection('kube', md);
  process.stdout.write(`${md}\n`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench:kube failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    process.exit();
  });
