/**
 * Scheduling benchmark (`npm run bench:scheduling`): routing policies and fair share on a simulated
 * fleet, over loopback only.
 *
 * Fleet: 4 simulator pods of one model (profile below, a realistic vLLM step-time model) behind a
 * Switchyard gateway process; every measured point starts fresh pods and a fresh gateway (cold prefix
 * caches, empty affinity table). The load generator is this process (open loop, Poisson arrivals,
 * streaming requests).
 *
 *   sweep     multi-turn chat with shared system prompts and growing conversation prefixes, at a range
 *             of request rates, once per policy (round-robin, least-load, prefix-load)
 *   unique    prompts that share nothing, at the highest sweep rate: round-robin vs prefix-load
 *   tenants   prefix-load: tenant B alone, then B with tenant A sending 10× more (same tier)
 *
 * Output: the `scheduling` section of bench/RESULTS.md, SVG plots in bench/scheduling/, raw numbers in
 * bench/out/scheduling.json. Flags (a run with any of them, or any BENCH_* variable below, writes
 * bench/out/scheduling-partial.json and leaves RESULTS.md alone): --quick (short phases),
 * --only sweep,unique,tenants, --rates 12,24,36, --policies round-robin,prefix-load. For investigation:
 * BENCH_KV_TOKENS, BENCH_THINK_S, BENCH_UNIQUE_RATE, BENCH_WARMUP_S, BENCH_RATE_B; BENCH_GATEWAY_LOG_LEVEL=info
 * keeps the gateway's access log (bench/out/scheduling-gateway-<point>.log).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSimPod, type SimPod } from '../../runtimes/sim/spawn.js';
import { writeSection } from '../results.js';
import { children, freePort, progress, sleep, stopAll, terminate, type Child } from '../support/processes.js';
import { closeAgent, openLoop, type Sample } from './load.js';
import { measurePrefixCost } from './prefix-hash-cost.js';
import { renderSection, writePlots, type BenchResults, type PointResult } from './report.js';
import { machineBusyMs, processCpuMs, summarise, type Slo } from './stats.js';
import { WorkloadGenerator, type WorkloadSpec } from './workload.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const PLOT_DIR = path.join(ROOT, 'bench', 'scheduling');
const MODEL = 'meta-llama/Llama-3.1-70B-Instruct';
const CATALOGUE_MODEL = 'llama-3.1-70b-instruct';
export const PROFILE = 'llama-3.1-70b-tp4-h100';
export const PODS = 4;
/**
 * KV cache per pod, scaled down from the profile's 440k tokens: a production cache fills over minutes and
 * then evicts; a 30-second run would never reach that steady state with the full size. At this size the
 * cache is full and evicting within the warm-up, as it would be after hours of real traffic.
 */
export const KV_CAPACITY_TOKENS = Number(process.env.BENCH_KV_TOKENS ?? 256_000);
const POLICIES = ['round-robin', 'least-load', 'prefix-load'] as const;
type Policy = (typeof POLICIES)[number];
const SCENARIOS = ['sweep', 'unique', 'tenants'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rates: { type: 'string' },
    policies: { type: 'string' },
  },
  strict: true,
});
const quick = flags.quick === true;
const scenarios = (flags.only ? flags.only.split(',') : [...SCENARIOS]) as Scenario[];
const policies = (flags.policies ? flags.policies.split(',') : [...POLICIES]) as Policy[];
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`--only: unknown scenario "${s}"`);
for (const p of policies) if (!POLICIES.includes(p)) throw new Error(`--policies: unknown policy "${p}"`);
const knobs = ['BENCH_KV_TOKENS', 'BENCH_THINK_S', 'BENCH_UNIQUE_RATE', 'BENCH_WARMUP_S', 'BENCH_RATE_B'].filter((k) => process.env[k] !== undefined);
const partial = quick || flags.only !== undefined || flags.rates !== undefined || flags.policies !== undefined || knobs.length > 0;

/** Multi-turn chat: ~1k-token system prompts of 6 applications, ~1.5k-token documents, 3–8 turns. */
export const SHARED: WorkloadSpec = {
  kind: 'multi-turn',
  seed: 42,
  apps: 6,
  systemWords: 1000,
  documentWords: [3000, 6000],
  turns: [3, 8],
  followUpWords: [20, 60],
  outputTokens: [32, 96],
  activeConversations: 32,
};

/** The same sizes with nothing shared. */
export const UNIQUE: WorkloadSpec = { ...SHARED, kind: 'unique', documentWords: [1000, 3000] };
/** Conversations in progress scale with the rate: each gets its next turn ~THINK_S s after the last one. */
const THINK_S = Number(process.env.BENCH_THINK_S ?? 4);
const withRate = (spec: WorkloadSpec, rate: number): WorkloadSpec => ({ ...spec, activeConversations: Math.max(8, Math.round(rate * THINK_S)) });

export const PARAMS = {
  rates: flags.rates ? flags.rates.split(',').map(Number) : [12, 24, 30, 33, 36],
  /** Unique prompts (~3k tokens, all computed) at about two thirds of what the pods can prefill. */
  uniqueRate: Number(process.env.BENCH_UNIQUE_RATE ?? 14),
  /** Longer than a sweep point: the two policies differ by a few percent at most, p99 of ~250 requests by ±10 %. */
  uniqueMeasureS: quick ? 8 : 48,
  warmupS: Number(process.env.BENCH_WARMUP_S ?? (quick ? 4 : 12)),
  measureS: quick ? 8 : 18,
  /** Tenant B's rates (A sends factorA × as much): the pool ~2/3 busy, ~80 % busy, past saturation. */
  tenants: { ratesB: process.env.BENCH_RATE_B ? [Number(process.env.BENCH_RATE_B)] : [2, 2.5, 3], factorA: 10, warmupS: quick ? 4 : 10, measureS: quick ? 10 : 48 },
};
/** Interactive-chat SLO for goodput: first token within 2 s, and a mean token gap within 60 ms (~3 decode steps). */
export const SLO: Slo = { ttftMs: 2_000, itlMs: 60 };

// ---------------------------------------------------------------------------------------------------
// Child processes: registered before anything can fail, killed on every exit path.


process.on('exit', () => {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    progress(`${signal}: stopping child processes`);
    void stopAll().finally(() => process.exit(130));
  });
}


// ---------------------------------------------------------------------------------------------------
// Set-up

interface Env {
  databaseUrl: string;
  redisUrl: string;
  adminKey: string;
  keyPepper: string;
}

async function prepareDatabase(databaseUrl: string, redisUrl: string): Promise<void> {
  const setup = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'lib', 'setup.mjs')).href)) as {
    ensureServices(d: string, r: string): Promise<void>;
    ensureDatabase(d: string): Promise<void>;
    migrate(d: string): void;
  };
  await setup.ensureServices(databaseUrl, redisUrl);
  await setup.ensureDatabase(databaseUrl);
  setup.migrate(databaseUrl);
}

async function startPods(): Promise<SimPod[]> {
  const pods = await Promise.all(
    Array.from({ length: PODS }, (_, i) =>
      spawnSimPod({ model: MODEL, profile: PROFILE, args: ['--max-model-len', '32768', '--kv-capacity-tokens', String(KV_CAPACITY_TOKENS), '--seed', String(i)] }),
    ),
  );
  for (const pod of pods) children.push({ name: 'sim', pid: pod.pid, stop: () => pod.stop() });
  // Interrupted while they were starting: the signal handler has already run, stop them here.
  if (interrupted) {
    await Promise.all(pods.map((p) => p.stop()));
    throw new Error('interrupted');
  }
  return pods;
}

interface GatewayProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startGateway(pods: SimPod[], policy: Policy, env: Env, label: string): Promise<GatewayProcess> {
  const catalogueFile = path.join(OUT_DIR, 'scheduling-catalogue.json');
  const unlimited = { rpm: null, tpm: null, concurrency: null, dailySpend: null, monthlySpend: null, softDailySpend: null, softMonthlySpend: null };
  writeFileSync(
    catalogueFile,
    `${JSON.stringify(
      {
        pools: [{ name: 'bench-70b', runtime: 'sim', provider: 'static', servedModel: MODEL, endpoints: pods.map((p) => p.baseUrl) }],
        models: [{ name: CATALOGUE_MODEL, pool: 'bench-70b', contextWindow: 32768, tokenizer: 'llama3' }],
        // The quota stage must not be what limits the load.
        tiers: { free: unlimited, standard: unlimited, premium: unlimited, enterprise: unlimited },
      },
      null,
      2,
    )}\n`,
  );
  const port = await freePort();
  const logFile = path.join(OUT_DIR, `scheduling-gateway-${label}.log`);
  const log = createWriteStream(logFile, { flags: 'w' });
  await new Promise((resolve) => log.once('open', resolve));
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      SWITCHYARD_CONFIG_FILE: catalogueFile,
      SWITCHYARD_BOOTSTRAP_API_KEY: env.adminKey,
      SWITCHYARD_KEY_PEPPER: env.keyPepper,
      SWITCHYARD_PORT: String(port),
      SWITCHYARD_HOST: '127.0.0.1',
      SWITCHYARD_LOG_LEVEL: process.env.BENCH_GATEWAY_LOG_LEVEL ?? 'warn',
      SWITCHYARD_DATABASE_URL: env.databaseUrl,
      SWITCHYARD_REDIS_URL: env.redisUrl,
      SWITCHYARD_SHUTDOWN_GRACE_MS: '1000',
      SWITCHYARD_IP_REQUESTS_PER_MINUTE: '0',
      SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE: '0',
      SWITCHYARD_ROUTING_POLICY: policy,
      // Migrated once at the start of the benchmark; every point starts a fresh gateway.
      SWITCHYARD_MIGRATE_ON_START: 'false',
      SWITCHYARD_DEFERRED_WORKERS_PER_POOL: '0',
    },
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const entry: Child = { name: 'gateway', pid: child.pid!, stop: () => terminate(child, 5_000) };
  children.push(entry);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with code ${child.exitCode} during start-up; see ${path.relative(ROOT, logFile)}`);
    try {
      if ((await fetch(`${url}/ready`)).status === 200) {
        return {
          url,
          pid: child.pid!,
          stop: async () => {
            children.splice(children.indexOf(entry), 1);
            await entry.stop();
          },
        };
      }
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`the gateway was not ready within 60 s; see ${path.relative(ROOT, logFile)}`);
}

/** An organization of `tier` with an inference key, made over the admin API. */
async function tenantKey(url: string, adminKey: string, name: string, tier = 'standard'): Promise<string> {
  const admin = async (pathname: string, body: unknown) => {
    const res = await fetch(`${url}${pathname}`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status !== 200 && res.status !== 201) throw new Error(`admin ${pathname}: HTTP ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
    return json;
  };
  const org = await admin('/admin/v1/organizations', { name: `${name} ${randomBytes(3).toString('hex')}`, tier });
  const key = await admin(`/admin/v1/organizations/${org.id}/keys`, { name, scopes: ['inference'] });
  return key.secret as string;
}

/** Prefix-cache counters summed over the pods (tokens). */
async function podCacheCounters(pods: SimPod[]): Promise<{ queries: number; hits: number; preemptions: number }> {
  const out = { queries: 0, hits: 0, preemptions: 0 };
  for (const pod of pods) {
    const text = await (await fetch(`${pod.baseUrl}/metrics`)).text();
    for (const line of text.split('\n')) {
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (line.startsWith('vllm:prefix_cache_queries_total')) out.queries += value;
      else if (line.startsWith('vllm:prefix_cache_hits_total')) out.hits += value;
      else if (line.startsWith('vllm:num_preemptions_total')) out.preemptions += value;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// One measured point: fresh pods and gateway, one or more tenants at open-loop rates.

interface Load {
  tenant: string;
  rate: number;
  spec: WorkloadSpec;
}

interface PointRun {
  samples: Sample[];
  cacheHitRate: number;
  preemptions: number;
  /** Busy share of all CPUs, and CPU-seconds per second of the gateway, the pods and this process. */
  cpu: number;
  cpuSplit: { gateway: number; pods: number; client: number };
  /** Share of admitted prompt tokens the gateway expected in the chosen pod's cache (its affinity table). */
  expectedHit: number;
}

async function runPoint(env: Env, policy: Policy, loads: Load[], timing: { warmupS: number; measureS: number }, label: string): Promise<PointRun> {
  const pods = await startPods();
  const gateway = await startGateway(pods, policy, env, label);
  try {
    const keys = new Map<string, string>();
    for (const load of loads) if (!keys.has(load.tenant)) keys.set(load.tenant, await tenantKey(gateway.url, env.adminKey, `bench ${load.tenant}`));
    // A few requests to warm the JIT on every process (not measured, distinct prompts).
    const warm = new WorkloadGenerator({ ...UNIQUE, seed: 7, documentWords: [50, 60] }, CATALOGUE_MODEL);
    await openLoop({ url: gateway.url, key: keys.get(loads[0].tenant)!, tenant: 'warm', rate: 10, durationS: 1, workload: warm, seed: 7, t0: performance.now() });
    const before = await podCacheCounters(pods);
    const busyBefore = machineBusyMs();
    const gatewayBefore = processCpuMs(gateway.pid);
    const podsBefore = pods.reduce((n, p) => n + processCpuMs(p.pid), 0);
    const selfBefore = process.cpuUsage();
    const t0 = performance.now();
    const durationS = timing.warmupS + timing.measureS;
    const results = await Promise.all(
      loads.map((load, i) =>
        openLoop({ url: gateway.url, key: keys.get(load.tenant)!, tenant: load.tenant, rate: load.rate, durationS, workload: new WorkloadGenerator({ ...load.spec, seed: load.spec.seed + i }, CATALOGUE_MODEL), seed: 1000 + i, t0 }),
      ),
    );
    const elapsed = performance.now() - t0;
    const cpu = (machineBusyMs() - busyBefore) / elapsed / os.cpus().length;
    const self = process.cpuUsage(selfBefore);
    const cpuSplit = {
      gateway: (processCpuMs(gateway.pid) - gatewayBefore) / elapsed,
      pods: (pods.reduce((n, p) => n + processCpuMs(p.pid), 0) - podsBefore) / elapsed,
      client: (self.user + self.system) / 1000 / elapsed,
    };
    const after = await podCacheCounters(pods);
    const queries = after.queries - before.queries;
    const gm = await (await fetch(`${gateway.url}/metrics`)).text();
    const sample = (name: string, label: string) => Number(gm.split('\n').find((l) => l.startsWith(name) && l.includes(label))?.split(' ').at(-1) ?? 0);
    const expectedHit = sample('switchyard_routing_prefix_tokens_total', 'kind="matched"') / Math.max(1, sample('switchyard_routing_prefix_tokens_total', 'kind="prompt"'));
    return { samples: results.flat(), cacheHitRate: queries ? (after.hits - before.hits) / queries : 0, preemptions: after.preemptions - before.preemptions, cpu, cpuSplit, expectedHit };
  } finally {
    await gateway.stop();
    await Promise.all(pods.map((p) => p.stop()));
    for (const pod of pods) {
      const at = children.findIndex((c) => c.pid === pod.pid);
      if (at !== -1) children.splice(at, 1);
    }
  }
}

function point(scenario: string, policy: Policy, rate: number, run: PointRun, timing: { warmupS: number; measureS: number }, tenant?: string): PointResult {
  const samples = tenant ? run.samples.filter((s) => s.tenant === tenant) : run.samples;
  const summary = summarise(samples, timing.warmupS * 1000, (timing.warmupS + timing.measureS) * 1000, SLO);
  return { scenario, policy, rate, tenant, summary, cacheHitRate: run.cacheHitRate, preemptions: run.preemptions, cpu: run.cpu, cpuSplit: run.cpuSplit, expectedHit: run.expectedHit };
}

function log(p: PointResult): void {
  const s = p.summary;
  progress(
    `${p.scenario}${p.tenant ? `/${p.tenant}` : ''} ${p.policy} @ ${p.rate} req/s: ttft p50 ${s.ttftP50.toFixed(0)} p99 ${s.ttftP99.toFixed(0)} ms, itl p50 ${s.itlP50.toFixed(1)} p99 ${s.itlP99.toFixed(1)} ms, ` +
      `${s.throughput.toFixed(0)} tok/s, goodput ${s.goodput.toFixed(2)} req/s (${(s.sloAttainment * 100).toFixed(0)} %), hit ${(p.cacheHitRate * 100).toFixed(0)} % (client ${(s.clientCacheHitRate * 100).toFixed(0)} %, expected ${(p.expectedHit * 100).toFixed(0)} %), prompt ${s.meanPromptTokens.toFixed(0)}, preempt ${p.preemptions}, ` +
      `errors ${JSON.stringify(s.errors)}, cpu ${(p.cpu * 100).toFixed(0)} % (gateway ${p.cpuSplit.gateway.toFixed(2)}, pods ${p.cpuSplit.pods.toFixed(2)}, client ${p.cpuSplit.client.toFixed(2)} cores)`,
  );
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const databaseUrl = process.env.SWITCHYARD_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/switchyard_bench';
  const redisUrl = process.env.SWITCHYARD_REDIS_URL || 'redis://127.0.0.1:6379';
  progress('preparing PostgreSQL and Redis');
  await prepareDatabase(databaseUrl, redisUrl);
  const env: Env = { databaseUrl, redisUrl, adminKey: `sk-sy-${randomBytes(24).toString('base64url')}`, keyPepper: randomBytes(32).toString('base64url') };
  const started = Date.now();
  progress('measuring the cost of prefix hashing');
  const prefixCost = measurePrefixCost();
  const points: PointResult[] = [];
  const timing = { warmupS: PARAMS.warmupS, measureS: PARAMS.measureS };

  if (scenarios.includes('sweep')) {
    for (const rate of PARAMS.rates) {
      for (const policy of policies) {
        const run = await runPoint(env, policy, [{ tenant: 'main', rate, spec: withRate(SHARED, rate) }], timing, `sweep-${policy}-${rate}`);
        const p = point('sweep', policy, rate, run, timing);
        log(p);
        points.push(p);
      }
    }
  }
  if (scenarios.includes('unique')) {
    const rate = PARAMS.uniqueRate;
    for (const policy of policies.filter((p) => p !== 'least-load' || flags.policies !== undefined)) {
      const uTiming = { warmupS: PARAMS.warmupS, measureS: PARAMS.uniqueMeasureS };
      const run = await runPoint(env, policy, [{ tenant: 'main', rate, spec: UNIQUE }], uTiming, `unique-${policy}`);
      const p = point('unique', policy, rate, run, uTiming);
      log(p);
      points.push(p);
    }
  }
  if (scenarios.includes('tenants')) {
    const t = PARAMS.tenants;
    const tTiming = { warmupS: t.warmupS, measureS: t.measureS };
    for (const rateB of t.ratesB) {
      // B's request sequence is the same in both runs (same seed, first load): only A differs.
      const specB = { ...withRate(SHARED, rateB), seed: 99 };
      const solo = await runPoint(env, 'prefix-load', [{ tenant: 'B', rate: rateB, spec: specB }], tTiming, `tenants-solo-${rateB}`);
      const pSolo = point('tenants-solo', 'prefix-load', rateB, solo, tTiming, 'B');
      log(pSolo);
      points.push(pSolo);
      const rateA = rateB * t.factorA;
      const both = await runPoint(
        env,
        'prefix-load',
        [
          { tenant: 'B', rate: rateB, spec: specB },
          { tenant: 'A', rate: rateA, spec: withRate(SHARED, rateA) },
        ],
        tTiming,
        `tenants-both-${rateB}`,
      );
      for (const [tenant, rate] of [['B', rateB], ['A', rateA]] as const) {
        const p = point('tenants-both', 'prefix-load', rate, both, tTiming, tenant);
        log(p);
        points.push(p);
      }
    }
  }
  await closeAgent();

  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
    profile: PROFILE,
    pods: PODS,
    kvCapacityTokens: KV_CAPACITY_TOKENS,
    thinkS: THINK_S,
    params: PARAMS,
    slo: SLO,
    workloads: { shared: SHARED, unique: UNIQUE },
    durationS: Math.round((Date.now() - started) / 1000),
    prefixCost,
    points,
  };
  writeFileSync(path.join(OUT_DIR, partial ? 'scheduling-partial.json' : 'scheduling.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (!partial) {
    const plots = writePlots(results, PLOT_DIR);
    writeSection('scheduling', renderSection(results, plots));
    progress('wrote bench/RESULTS.md (scheduling section), bench/scheduling/*.svg, bench/out/scheduling.json');
  } else {
    progress('partial run: wrote bench/out/scheduling-partial.json (RESULTS.md untouched)');
  }
  progress(`done in ${results.durationS} s`);
}

main()
  .catch(async (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
