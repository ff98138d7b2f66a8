/**
 * Gateway overhead benchmark (`npm run bench`).
 *
 * One simulator pod (profile `zero`: no step latency, so every microsecond measured is HTTP/JSON work),
 * a bare node:http + undici proxy (bare-proxy.ts, the floor for any Node gateway) and the Switchyard
 * gateway as its own process, all on this machine. The same requests are driven against three arms —
 * the pod directly, the bare proxy, Switchyard — in interleaved rounds (the arm order alternates) so
 * machine noise hits all arms alike:
 *
 *   throughput   autocannon, 32 connections, 10 s after a 3 s warm-up, non-streaming (max_tokens 16)
 *   latency      open loop at 200 req/s for 10 s, p50/p90/p99
 *   ttft         300 streaming requests (max_tokens 64), 2 at a time: time to the first `data:` chunk
 *   chunks       16 concurrent streams back to back for 8 s: chunks/s delivered
 *
 * plus CPU time and RSS of every process from /proc. Results go to bench/RESULTS.md (only the section
 * between the overhead markers is rewritten) and raw numbers to bench/out/overhead.json.
 *
 * Flags (for investigation; a run with any of them writes bench/out/overhead-partial.json and leaves
 * RESULTS.md alone): --quick (short phases), --rounds N, --arms direct,bare,switchyard,
 * --phases throughput,latency,ttft,chunks, --cpu-prof (V8 CPU profiles of the gateway and the bare
 * proxy into bench/out/prof/), --gateway-env KEY=VALUE (repeatable; extra gateway settings for what-if
 * runs, e.g. SWITCHYARD_IP_REQUESTS_PER_MINUTE=0 to take the edge throttle out), --node-flag FLAG
 * (repeatable; passed to the gateway and bare-proxy node processes, e.g. --node-flag=--trace-gc).
 *
 * Needs PostgreSQL and Redis (started if installed and down, like `npm start`); the database
 * (SWITCHYARD_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/switchyard_bench) is created
 * and migrated if needed.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSimPod } from '../../runtimes/sim/spawn.js';
import { closedLoop, openLoop, percentile, streamChunkRate, streamTtft, type Target } from './load.js';
import { UsageSampler, backgroundCores, cpuMs, rssMiB, type ProcessUsage } from './procstat.js';
import { writeSection } from '../results.js';
import { children, freePort, progress, sleep, stopAll, terminate } from '../support/processes.js';
import { prepareDatabase } from '../support/setup.js';
import { renderSection, toJson, type ArmName, type BenchResults, type PhaseSample } from './report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const MODEL = 'meta-llama/Llama-3.2-1B-Instruct';
const ARMS: ArmName[] = ['direct', 'bare', 'switchyard'];
const PHASES = ['throughput', 'latency', 'ttft', 'chunks'] as const;
/** Other processes' CPU (in cores) under which the machine counts as quiet; the wait allowed per
 * measurement and in total (the whole run stays near five minutes even on a busy machine). */
const QUIET_CORES = 0.15;
const QUIET_WAIT_MAX_MS = 15_000;
const QUIET_BUDGET_MS = 60_000;
type Phase = (typeof PHASES)[number];

// ---------------------------------------------------------------------------------------------------
// Arguments and parameters

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    arms: { type: 'string' },
    phases: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'gateway-env': { type: 'string', multiple: true },
    'node-flag': { type: 'string', multiple: true },
  },
  strict: true,
});
/** Extra gateway environment for what-if runs, e.g. --gateway-env SWITCHYARD_IP_REQUESTS_PER_MINUTE=0 */
const gatewayEnv: Record<string, string> = {};
for (const pair of flags['gateway-env'] ?? []) {
  const eq = pair.indexOf('=');
  if (eq < 1) throw new Error(`--gateway-env expects KEY=VALUE, got "${pair}"`);
  gatewayEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
}

const quick = flags.quick === true;
const params = {
  rounds: Number(flags.rounds ?? (quick ? 1 : 2)),
  throughput: { connections: 32, warmupS: quick ? 1 : 3, durationS: quick ? 3 : 10 },
  latency: { rate: 200, warmupS: 1, durationS: quick ? 3 : 10 },
  ttft: { requests: quick ? 100 : 300, concurrency: 2, warmupRequests: 20 },
  chunks: { concurrency: 16, warmupS: 1, durationS: quick ? 3 : 8 },
  nonStreamMaxTokens: 16,
  streamMaxTokens: 64,
};
const arms = flags.arms ? (flags.arms.split(',') as ArmName[]) : ARMS;
const phases = flags.phases ? (flags.phases.split(',') as Phase[]) : [...PHASES];
for (const a of arms) if (!ARMS.includes(a)) throw new Error(`--arms: unknown arm "${a}" (known: ${ARMS.join(', ')})`);
for (const p of phases) if (!PHASES.includes(p)) throw new Error(`--phases: unknown phase "${p}" (known: ${PHASES.join(', ')})`);
const partial =
  quick || flags.rounds !== undefined || flags.arms !== undefined || flags.phases !== undefined || flags['cpu-prof'] === true || flags['gateway-env'] !== undefined || flags['node-flag'] !== undefined;

const messages = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Describe a rail yard at dawn in one sentence.' },
];
// ignore_eos (a vLLM extension Switchyard passes through) makes every response exactly max_tokens long.
const NON_STREAM_BODY = JSON.stringify({ model: MODEL, messages, max_tokens: params.nonStreamMaxTokens, ignore_eos: true });
const STREAM_BODY = JSON.stringify({ model: MODEL, messages, max_tokens: params.streamMaxTokens, ignore_eos: true, stream: true });

// ---------------------------------------------------------------------------------------------------
// Child processes: every one is registered before anything can fail, and killed on any exit path.


process.on('exit', () => {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping child processes`);
    void stopAll().finally(() => process.exit(130));
  });
}


// ---------------------------------------------------------------------------------------------------
// Set-up: services, database, the three processes

/**
 * A private redis-server for the gateway, so the benchmark neither sees nor disturbs anyone else's
 * Redis state: the per-IP edge throttle keys its counters by client address in Redis, and every
 * gateway on a shared Redis would share (and block) 127.0.0.1. Also makes Redis CPU measurable per
 * request. Undefined when redis-server is not installed (the shared SWITCHYARD_REDIS_URL is used).
 */
async function startPrivateRedis(): Promise<{ pid: number; url: string } | undefined> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch {
    return undefined;
  }
  children.push({ name: 'redis', pid: child.pid!, stop: () => terminate(child, 5_000) });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const pong = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setTimeout(500, () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => (socket.destroy(), resolve(data.toString().startsWith('+PONG'))));
    });
    if (pong) return { pid: child.pid!, url: `redis://127.0.0.1:${port}` };
    await sleep(50);
  }
  throw new Error('the private redis-server did not answer PING within 10 s');
}

async function startSimPod() {
  const handle = await spawnSimPod({ model: MODEL, profile: 'zero' });
  children.push({ name: 'sim', pid: handle.pid, stop: () => handle.stop() });
  return handle;
}

async function startBareProxyProcess(upstream: string, nodeFlags: string[]): Promise<{ pid: number; url: string }> {
  const child = spawn(process.execPath, [...nodeFlags, path.join(ROOT, 'dist', 'bench', 'overhead', 'bare-proxy.js'), '--upstream', upstream, '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push({ name: 'bare-proxy', pid: child.pid!, stop: () => terminate(child, 5_000) });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('bare proxy did not print its listening line within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`bare proxy exited with code ${code} before listening`)));
    // The listening line is JSON; anything else (e.g. --trace-gc output) is skipped.
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith('{"event":"listening"')) continue;
        clearTimeout(timer);
        resolve({ pid: child.pid!, url: (JSON.parse(line) as { url: string }).url });
      }
    });
  });
}

async function startGatewayProcess(
  simUrl: string,
  env: { databaseUrl: string; redisUrl: string; apiKey: string; keyPepper: string },
  nodeFlags: string[],
): Promise<{ pid: number; url: string; logFile: string }> {
  const catalogueFile = path.join(OUT_DIR, 'overhead-catalogue.json');
  writeFileSync(
    catalogueFile,
    `${JSON.stringify(
      {
        pools: [{ name: 'bench-sim', runtime: 'sim', provider: 'static', servedModel: MODEL, replicas: 1, endpoints: [simUrl] }],
        // The catalogue name equals the served name, so the very same request body goes to every arm.
        models: [{ name: MODEL, pool: 'bench-sim', contextWindow: 131072, tokenizer: 'llama3' }],
      },
      null,
      2,
    )}\n`,
  );
  const port = await freePort();
  const logFile = path.join(OUT_DIR, 'overhead-gateway.log');
  const log = createWriteStream(logFile, { flags: 'w' });
  await new Promise((resolve) => log.once('open', resolve));
  const child = spawn(process.execPath, [...nodeFlags, path.join(ROOT, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      SWITCHYARD_CONFIG_FILE: catalogueFile,
      SWITCHYARD_BOOTSTRAP_API_KEY: env.apiKey,
      SWITCHYARD_KEY_PEPPER: env.keyPepper,
      SWITCHYARD_PORT: String(port),
      SWITCHYARD_HOST: '127.0.0.1',
      SWITCHYARD_LOG_LEVEL: 'warn',
      SWITCHYARD_DATABASE_URL: env.databaseUrl,
      SWITCHYARD_REDIS_URL: env.redisUrl,
      SWITCHYARD_SHUTDOWN_GRACE_MS: '2000',
      // The per-IP edge throttle stays on (its Redis call is part of the request path) but must not
      // refuse a load generator that sends everything from 127.0.0.1.
      SWITCHYARD_IP_REQUESTS_PER_MINUTE: '10000000',
      ...gatewayEnv,
    },
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  children.push({ name: 'gateway', pid: child.pid!, stop: () => terminate(child, 10_000) });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with code ${child.exitCode} during start-up; see ${path.relative(ROOT, logFile)}`);
    try {
      const res = await fetch(`${url}/ready`);
      if (res.status === 200) return { pid: child.pid!, url, logFile };
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`the gateway was not ready within 60 s; see ${path.relative(ROOT, logFile)}`);
}

// ---------------------------------------------------------------------------------------------------
// Sanity: every arm answers the benchmark requests the same way before anything is measured.

const ok2xx = (status: number) => status >= 200 && status < 300;

async function sanity(arm: ArmName, target: Target): Promise<{ status: number; completionTokens: number; chunksPerStream: number }> {
  const res = await fetch(`${target.origin}${target.path}`, { method: 'POST', headers: target.headers, body: NON_STREAM_BODY });
  const text = await res.text();
  if (!ok2xx(res.status)) throw new Error(`${arm}: non-streaming request failed: HTTP ${res.status} ${text.slice(0, 300)}`);
  const json = JSON.parse(text) as { choices?: { message?: { content?: string } }[]; usage?: { completion_tokens?: number } };
  if (!json.choices?.[0]?.message) throw new Error(`${arm}: unexpected response ${text.slice(0, 300)}`);
  const stream = await streamTtft(target, STREAM_BODY, 1, 1);
  if (stream.ok !== 1) throw new Error(`${arm}: streaming request failed`);
  return { status: res.status, completionTokens: json.usage?.completion_tokens ?? 0, chunksPerStream: stream.chunksPerStream[0]! };
}

/**
 * The key the benchmark sends. Tenancy builds: the bootstrap key is a platform-admin key without the
 * inference scope, so an organization (enterprise tier) and an inference key are made over the admin
 * API. Builds without the admin API take the bootstrap key for inference.
 */
async function inferenceKey(gatewayUrl: string, adminKey: string): Promise<{ key: string; how: string }> {
  const admin = async (pathname: string, body: unknown) => {
    const res = await fetch(`${gatewayUrl}${pathname}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };
  const org = await admin('/admin/v1/organizations', { name: `overhead bench ${randomBytes(3).toString('hex')}`, tier: 'enterprise' });
  if (org.status === 404) return { key: adminKey, how: 'bootstrap key (no admin API in this build)' };
  if (org.status !== 201 && org.status !== 200) throw new Error(`creating the benchmark organization failed: HTTP ${org.status} ${JSON.stringify(org.json).slice(0, 300)}`);
  const key = await admin(`/admin/v1/organizations/${org.json.id}/keys`, { name: 'overhead bench', scopes: ['inference'] });
  if ((key.status !== 201 && key.status !== 200) || typeof key.json.secret !== 'string') {
    throw new Error(`creating the benchmark API key failed: HTTP ${key.status} ${JSON.stringify(key.json).slice(0, 300)}`);
  }
  return { key: key.json.secret, how: `inference key of organization ${org.json.id} (tier enterprise), made over the admin API` };
}

// ---------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const started = Date.now();
  mkdirSync(OUT_DIR, { recursive: true });
  const databaseUrl = process.env.SWITCHYARD_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/switchyard_bench';
  const sharedRedisUrl = process.env.SWITCHYARD_REDIS_URL || 'redis://127.0.0.1:6379';
  // Switchyard key format (sk-sy- + 32 url-safe characters); the pepper is the server secret API keys
  // are hashed with (tenancy builds require it; older builds ignore it).
  const adminKey = `sk-sy-${randomBytes(24).toString('base64url')}`;
  const keyPepper = randomBytes(32).toString('base64url');
  const profDir = path.join(OUT_DIR, 'prof');
  const nodeFlags = [...(flags['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), ...(flags['node-flag'] ?? [])];

  progress(`setup: PostgreSQL/Redis, database ${new URL(databaseUrl).pathname.slice(1)}, migrations`);
  await prepareDatabase(databaseUrl, sharedRedisUrl);
  const privateRedis = process.env.SWITCHYARD_REDIS_URL ? undefined : await startPrivateRedis();
  const redisUrl = privateRedis?.url ?? sharedRedisUrl;
  progress(privateRedis ? `setup: private redis-server pid ${privateRedis.pid} at ${redisUrl}` : `setup: shared Redis at ${redisUrl}`);

  progress(`setup: sim pod (${MODEL}, profile zero)`);
  const sim = await startSimPod();
  progress(`setup: sim pod pid ${sim.pid} at ${sim.baseUrl}`);
  const bare = await startBareProxyProcess(sim.baseUrl, nodeFlags);
  progress(`setup: bare proxy pid ${bare.pid} at ${bare.url}`);
  const gateway = await startGatewayProcess(sim.baseUrl, { databaseUrl, redisUrl, apiKey: adminKey, keyPepper }, nodeFlags);
  progress(`setup: Switchyard pid ${gateway.pid} at ${gateway.url} (ready)`);

  const tenant = await inferenceKey(gateway.url, adminKey);
  const apiKey = tenant.key;
  progress(`setup: using ${tenant.how}`);
  // Every arm gets the same headers, what an OpenAI client sends.
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const targets: Record<ArmName, Target> = {
    direct: { origin: sim.baseUrl, path: '/v1/chat/completions', headers },
    bare: { origin: bare.url, path: '/v1/chat/completions', headers },
    switchyard: { origin: gateway.url, path: '/v1/chat/completions', headers },
  };
  const pids: Record<string, number> = { sim: sim.pid, bare: bare.pid, gateway: gateway.pid };
  if (privateRedis) pids.redis = privateRedis.pid;
  const serviceNames = privateRedis ? ['postgres'] : ['postgres', 'redis-server'];

  await sleep(1_000);
  const idleRss = { gateway: rssMiB(gateway.pid) ?? NaN, bare: rssMiB(bare.pid) ?? NaN, sim: rssMiB(sim.pid) ?? NaN };
  // CPU the processes burn with no traffic at all (timers, pollers, worker threads), in cores.
  const idleCpu0 = { gateway: cpuMs(gateway.pid) ?? 0, bare: cpuMs(bare.pid) ?? 0 };
  await sleep(3_000);
  const idleCpu = { gateway: ((cpuMs(gateway.pid) ?? 0) - idleCpu0.gateway) / 3_000, bare: ((cpuMs(bare.pid) ?? 0) - idleCpu0.bare) / 3_000 };
  progress(
    `idle: Switchyard ${idleRss.gateway.toFixed(1)} MiB RSS, ${(idleCpu.gateway * 100).toFixed(1)} % CPU; ` +
      `bare proxy ${idleRss.bare.toFixed(1)} MiB, ${(idleCpu.bare * 100).toFixed(1)} % CPU; sim ${idleRss.sim.toFixed(1)} MiB`,
  );

  const sanityResults = {} as Record<ArmName, { status: number; completionTokens: number; chunksPerStream: number }>;
  for (const arm of ARMS) sanityResults[arm] = await sanity(arm, targets[arm]);
  progress(`sanity: ${ARMS.map((a) => `${a} HTTP ${sanityResults[a].status}, ${sanityResults[a].completionTokens} tokens, ${sanityResults[a].chunksPerStream} chunks per stream`).join('; ')}`);

  const samples: PhaseSample[] = [];
  /** Runs one measured window while sampling CPU and RSS of every process. */
  const measure = async <T>(run: () => Promise<T>): Promise<{ result: T; usage: Record<string, ProcessUsage> }> => {
    const sampler = new UsageSampler(pids, serviceNames, 100);
    sampler.start();
    const result = await run();
    const usage = sampler.stop();
    return { result, usage };
  };

  // The machine may be shared (other people's builds and test suites). Before each measurement wait,
  // within a budget, until other processes use less than QUIET_CORES; the noise actually present during
  // every window is recorded either way (usage.others) and reported.
  let quietBudgetMs = QUIET_BUDGET_MS;
  const waitForQuiet = async (label: string): Promise<void> => {
    const exclude = Object.values(pids);
    let cores = await backgroundCores(exclude, 500);
    if (cores < QUIET_CORES) return;
    const allowedMs = Math.min(QUIET_WAIT_MAX_MS, quietBudgetMs);
    progress(`${label}: other processes use ${cores.toFixed(2)} cores; waiting up to ${(allowedMs / 1000).toFixed(0)} s for quiet`);
    const started = Date.now();
    while (cores >= QUIET_CORES && Date.now() - started < allowedMs) {
      cores = await backgroundCores(exclude, 1000);
    }
    quietBudgetMs -= Date.now() - started;
    progress(`${label}: ${cores < QUIET_CORES ? 'quiet' : 'still busy, measuring anyway'} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  };

  for (let round = 1; round <= params.rounds; round++) {
    // Alternate the arm order every round (direct→bare→switchyard, then the reverse).
    const order = round % 2 === 1 ? arms : [...arms].reverse();
    for (const phase of phases) {
      for (const arm of order) {
        const target = targets[arm];
        await waitForQuiet(`round ${round} ${phase} ${arm}`);
        if (phase === 'throughput') {
          const p = params.throughput;
          const warmup = await closedLoop(target, NON_STREAM_BODY, p.connections, p.warmupS);
          const { result, usage } = await measure(() => closedLoop(target, NON_STREAM_BODY, p.connections, p.durationS));
          samples.push({ phase, arm, round, usage, warmupRequests: warmup.requests, throughput: result });
          progress(
            `round ${round} throughput  ${arm.padEnd(10)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${percentile(result.latenciesMs, 0.5).toFixed(2)} ms` +
              `  p99 ${percentile(result.latenciesMs, 0.99).toFixed(2)} ms  errors ${result.errors + result.non2xx}` +
              (result.errors + result.non2xx ? ` ${JSON.stringify(result.statusCodes)}` : ''),
          );
        } else if (phase === 'latency') {
          const p = params.latency;
          await openLoop(target, NON_STREAM_BODY, p.rate, p.warmupS);
          const { result, usage } = await measure(() => openLoop(target, NON_STREAM_BODY, p.rate, p.durationS));
          samples.push({ phase, arm, round, usage, latency: result });
          progress(
            `round ${round} latency     ${arm.padEnd(10)} ${result.achievedRps.toFixed(0).padStart(6)} req/s  p50 ${percentile(result.latenciesMs, 0.5).toFixed(3)} ms` +
              `  p99 ${percentile(result.latenciesMs, 0.99).toFixed(3)} ms  errors ${result.errors}${result.errors ? ` e.g. ${result.errorSamples[0]}` : ''}`,
          );
        } else if (phase === 'ttft') {
          const p = params.ttft;
          await streamTtft(target, STREAM_BODY, p.warmupRequests, p.concurrency);
          const { result, usage } = await measure(() => streamTtft(target, STREAM_BODY, p.requests, p.concurrency));
          samples.push({ phase, arm, round, usage, ttft: result });
          progress(
            `round ${round} ttft        ${arm.padEnd(10)} p50 ${percentile(result.ttftMs, 0.5).toFixed(3)} ms  p99 ${percentile(result.ttftMs, 0.99).toFixed(3)} ms` +
              `  (${result.ok} streams, errors ${result.errors}${result.errors ? ` e.g. ${result.errorSamples[0]}` : ''})`,
          );
        } else {
          const p = params.chunks;
          await streamChunkRate(target, STREAM_BODY, p.concurrency, p.warmupS);
          const { result, usage } = await measure(() => streamChunkRate(target, STREAM_BODY, p.concurrency, p.durationS));
          samples.push({ phase, arm, round, usage, chunks: result });
          progress(
            `round ${round} chunks      ${arm.padEnd(10)} ${result.chunksPerSecond.toFixed(0).padStart(6)} chunks/s  ${result.streamsPerSecond.toFixed(0)} streams/s  errors ${result.errors}` +
              (result.errors ? ` e.g. ${result.errorSamples[0]}` : ''),
          );
        }
      }
    }
  }

  await sleep(2_000);
  const idleRssAfter = { gateway: rssMiB(gateway.pid) ?? NaN, bare: rssMiB(bare.pid) ?? NaN, sim: rssMiB(sim.pid) ?? NaN };
  progress(`stopping child processes`);
  await stopAll();

  const results: BenchResults = {
    date: new Date().toISOString(),
    command: 'npm run bench',
    flags: process.argv.slice(2),
    partial,
    machine: {
      nproc: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memGiB: os.totalmem() / 1024 ** 3,
      node: process.version,
      platform: `${os.type()} ${os.release()}`,
    },
    git: gitDescribe(),
    model: MODEL,
    params,
    bodies: { nonStream: NON_STREAM_BODY, stream: STREAM_BODY },
    auth: tenant.how,
    redis: privateRedis ? 'private redis-server started by the benchmark' : `shared Redis at ${redisUrl}`,
    sanity: sanityResults,
    rss: { idle: idleRss, idleAfter: idleRssAfter },
    idleCpuCores: idleCpu,
    samples,
    wallSeconds: (Date.now() - started) / 1000,
  };
  const jsonFile = path.join(OUT_DIR, partial ? 'overhead-partial.json' : 'overhead.json');
  writeFileSync(jsonFile, `${JSON.stringify(toJson(results), null, 2)}\n`);
  const section = renderSection(results);
  if (partial) {
    process.stdout.write(`\n${section}\n`);
    progress(`partial run: raw results in ${path.relative(ROOT, jsonFile)}; bench/RESULTS.md left unchanged`);
  } else {
    writeSection('overhead', section);
    process.stdout.write(`\n${section}\n`);
    progress(`wrote bench/RESULTS.md (overhead section) and ${path.relative(ROOT, jsonFile)}`);
  }
  if (flags['cpu-prof']) progress(`CPU profiles in ${path.relative(ROOT, profDir)}/`);
  progress(`done in ${results.wallSeconds.toFixed(0)} s`);
}

function gitDescribe(): string | undefined {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'runtimes', 'bench'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return undefined;
  }
}

main().then(
  () => process.exit(0),
  async (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    await stopAll();
    process.exit(1);
  },
);
