/**
 * Soak benchmark (`npm run bench:soak`): gateway replicas as their own processes in front of simulator
 * pods, under a fixed number of concurrent clients for a long time — half streaming, half not, a tenth
 * of them walking away from their streams — then checks that nothing leaked or went missing:
 *
 *   errors      every answer that is not a success (deliberate disconnects excepted), by status/code; target 0
 *   RSS         each replica's resident memory every 5 s; growth over the last 5 minutes (the last half
 *               of a shorter run) must stay under 5 %
 *   leftovers   concurrency leases still held and reservations never settled, once the load stops: 0
 *   spend       the organizations' day spend counters in Redis against the sum of the settled costs
 *
 * How spend is checked: the clients that read every answer to its end belong to one organization
 * (`steady`); its counter must equal the sum, over the answers' usage, of prompt × input price + completion
 * × output price (exact: no settlement lost or doubled). The clients that disconnect belong to another
 * (`leaving`): the gateway settles those streams with its prompt count plus the chunks it relayed, which
 * the client cannot know exactly, so its counter must lie between what the clients read and what
 * was reserved (prompt + max_tokens), with no lease left. A reservation never settled would push a
 * counter above its bound.
 *
 * Flags: --duration S (default 600), --clients N (default 200, per replica), --replicas N (2), --pods N
 * (4), --profile NAME (simulator profile, default llama-3.2-1b-h100). Only a run of ≥ 600 s with ≥ 200
 * clients writes the `soak` section of bench/RESULTS.md; a shorter one (e.g. --duration 30 --clients 20,
 * a smoke test) prints its report. Needs PostgreSQL (SWITCHYARD_DATABASE_URL, default
 * postgresql://postgres@127.0.0.1:5432/switchyard_bench) and redis-server (a private one is started).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { spawnSimPod } from '../../runtimes/sim/spawn.js';
import { createTenantOverApi, spawnGateway, type GatewayProcess } from '../../test/support/gateway-process.js';
import { startPrivateRedis } from '../../test/support/private-redis.js';
import { rssMiB } from '../overhead/procstat.js';
import { writeSection } from '../results.js';
import { children, progress, sleep, stopAll } from '../support/processes.js';
import { ROOT, prepareDatabase } from '../support/setup.js';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string' },
    clients: { type: 'string' },
    replicas: { type: 'string' },
    pods: { type: 'string' },
    profile: { type: 'string' },
  },
  strict: true,
});
const durationS = Number(flags.duration ?? 600);
const clientsPerReplica = Number(flags.clients ?? 200);
const replicaCount = Number(flags.replicas ?? 2);
const podCount = Number(flags.pods ?? 4);
const profile = flags.profile ?? 'llama-3.2-1b-h100';
const full = durationS >= 600 && clientsPerReplica >= 200;

const SERVED = 'meta-llama/Llama-3.2-1B-Instruct';
const MODEL = 'soak-chat';
const PRICES = { input: 1, output: 2 };
const RSS_EVERY_MS = 5_000;
const cost = (prompt: number, completion: number) => prompt * PRICES.input + completion * PRICES.output;

process.on('exit', () => {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

interface Totals {
  requests: number;
  ok: number;
  errors: Map<string, number>;
  /** steady: exact cost of every completed answer. */
  steadyCost: number;
  /** leaving: cost of what the clients read, and of what was reserved, for the streams they left. */
  leavingReadCost: number;
  leavingReservedCost: number;
  left: number;
}

const TOPICS = ['a rail yard at dawn', 'signal boxes', 'freight timetables', 'the night shift', 'switch points in winter', 'a shunting engine'];

/** One client's loop: a request at a time until the deadline. */
async function client(id: number, gw: GatewayProcess, keys: { steady: string; leaving: string }, deadline: number, totals: Totals, prompt: Map<string, number>): Promise<void> {
  const leaving = id % 10 === 9;
  for (let n = 0; performance.now() < deadline; n++) {
    const stream = leaving || (id + n) % 2 === 0;
    const maxTokens = 16 + ((id * 31 + n * 17) % 113);
    const topic = TOPICS[(id + n) % TOPICS.length]!;
    const body = { model: MODEL, messages: [{ role: 'user', content: `Tell me about ${topic}.` }], max_tokens: maxTokens, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) };
    const abort = new AbortController();
    totals.requests++;
    const fail = (what: string) => totals.errors.set(what, (totals.errors.get(what) ?? 0) + 1);
    try {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${leaving ? keys.leaving : keys.steady}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
      if (res.status !== 200) {
        const error = ((await res.json().catch(() => ({}))) as { error?: { code?: string } }).error;
        fail(`${res.status} ${error?.code ?? 'no error object'}`);
        continue;
      }
      if (!stream) {
        const json = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
        totals.ok++;
        totals.steadyCost += cost(json.usage.prompt_tokens, json.usage.completion_tokens);
        prompt.set(topic, json.usage.prompt_tokens);
        continue;
      }
      // Leaving clients read a few chunks and go; the others read to [DONE].
      const leaveAfter = leaving ? 2 + (n % 6) : Infinity;
      let chunks = 0;
      let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
      let errorEvent: string | undefined;
      let done = false;
      const decoder = new TextDecoder();
      let pending = '';
      const reader = res.body!.getReader();
      while (!done) {
        const { value, done: end } = await reader.read();
        if (end) break;
        pending += decoder.decode(value, { stream: true });
        let at: number;
        while ((at = pending.indexOf('\n\n')) !== -1) {
          const event = pending.slice(0, at);
          pending = pending.slice(at + 2);
          if (!event.startsWith('data: ')) continue;
          const data = event.slice(6);
          if (data === '[DONE]') {
            done = true;
            break;
          }
          const chunk = JSON.parse(data) as { error?: { code?: string }; choices?: unknown[]; usage?: typeof usage };
          if (chunk.error) errorEvent = chunk.error.code ?? 'error event';
          if (chunk.usage) usage = chunk.usage;
          if (chunk.choices?.length) chunks++;
        }
        if (chunks >= leaveAfter && !done) {
          abort.abort();
          break;
        }
      }
      if (errorEvent) fail(`stream ${errorEvent}`);
      else if (abort.signal.aborted) {
        totals.left++;
        const p = prompt.get(topic);
        // The prompt count is learnt from this topic's completed answers (one of each is sent first).
        totals.leavingReadCost += cost(p ?? 0, chunks);
        totals.leavingReservedCost += cost(p ?? 0, maxTokens);
      } else if (!done || !usage) fail('stream ended without [DONE] and usage');
      else if (leaving) {
        // Finished before its client meant to leave: an exact cost, inside both bounds.
        totals.ok++;
        totals.leavingReadCost += cost(usage.prompt_tokens, usage.completion_tokens);
        totals.leavingReservedCost += cost(usage.prompt_tokens, usage.completion_tokens);
      } else {
        totals.ok++;
        totals.steadyCost += cost(usage.prompt_tokens, usage.completion_tokens);
        prompt.set(topic, usage.prompt_tokens);
      }
    } catch (err) {
      if (abort.signal.aborted) continue;
      fail(`no answer: ${(err as Error).message}`);
    }
  }
}

function utcDay(): string {
  return new Date().toISOString().slice(0, 10).replace(/-/g, '');
}

async function main(): Promise<void> {
  const started = Date.now();
  process.env.SWITCHYARD_DATABASE_URL ||= 'postgresql://postgres@127.0.0.1:5432/switchyard_bench';
  const redis = await startPrivateRedis({ persist: false });
  children.push({ name: 'redis', pid: redis.pid, stop: () => redis.destroy() });
  process.env.SWITCHYARD_REDIS_URL = redis.url;
  progress(`setup: database ${new URL(process.env.SWITCHYARD_DATABASE_URL).pathname.slice(1)}, private redis at ${redis.url}`);
  await prepareDatabase(process.env.SWITCHYARD_DATABASE_URL, redis.url);

  const pods = await Promise.all(Array.from({ length: podCount }, () => spawnSimPod({ model: SERVED, profile, startTimeoutMs: 120_000 })));
  for (const p of pods) children.push({ name: 'sim', pid: p.pid, stop: () => p.stop() });
  const catalogue = {
    pools: [{ name: 'soak', runtime: 'sim', provider: 'static', servedModel: SERVED, endpoints: pods.map((p) => p.baseUrl) }],
    models: [{ name: MODEL, pool: 'soak', contextWindow: 4096, tokenizer: 'llama3', inputPricePerMTok: PRICES.input, outputPricePerMTok: PRICES.output }],
  };
  const replicas: GatewayProcess[] = [];
  for (let i = 0; i < replicaCount; i++) {
    const gw = await spawnGateway(catalogue);
    replicas.push(gw);
    children.push({ name: 'gateway', pid: gw.pid, stop: () => gw.stop() });
  }
  progress(`setup: ${podCount} sim pods (${profile}), ${replicaCount} gateway replicas (pids ${replicas.map((r) => r.pid).join(', ')})`);
  const [steady, leaving] = [await createTenantOverApi(replicas[0]!.url), await createTenantOverApi(replicas[0]!.url)];

  const totals: Totals = { requests: 0, ok: 0, errors: new Map(), steadyCost: 0, leavingReadCost: 0, leavingReservedCost: 0, left: 0 };
  const prompt = new Map<string, number>();
  // One completed answer per topic first, so every disconnect has its prompt count.
  for (const topic of TOPICS) {
    const res = await fetch(`${replicas[0]!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${steady.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `Tell me about ${topic}.` }], max_tokens: 1 }),
    });
    const json = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    prompt.set(topic, json.usage.prompt_tokens);
    totals.steadyCost += cost(json.usage.prompt_tokens, json.usage.completion_tokens);
  }

  const rss: Array<{ t: number; mib: number[] }> = [];
  const t0 = performance.now();
  const deadline = t0 + durationS * 1000;
  const sampler = setInterval(() => rss.push({ t: (performance.now() - t0) / 1000, mib: replicas.map((r) => rssMiB(r.pid) ?? NaN) }), RSS_EVERY_MS);
  rss.push({ t: 0, mib: replicas.map((r) => rssMiB(r.pid) ?? NaN) });
  const ticker = setInterval(() => progress(`${((performance.now() - t0) / 1000).toFixed(0)} s: ${totals.requests} requests, ${totals.ok} ok, ${totals.left} left, errors ${[...totals.errors.values()].reduce((a, b) => a + b, 0)}, RSS ${rss.at(-1)!.mib.map((m) => m.toFixed(0)).join('/')} MiB`), 30_000);
  progress(`load: ${clientsPerReplica} clients per replica for ${durationS} s`);
  await Promise.all(replicas.flatMap((gw, r) => Array.from({ length: clientsPerReplica }, (_, c) => client(r * clientsPerReplica + c, gw, { steady: steady.apiKey, leaving: leaving.apiKey }, deadline, totals, prompt))));
  clearInterval(sampler);
  clearInterval(ticker);
  rss.push({ t: (performance.now() - t0) / 1000, mib: replicas.map((r) => rssMiB(r.pid) ?? NaN) });

  // Settlements leave the gateways just after the answers: give them a moment, then read the counters.
  const r = new Redis(redis.url);
  const state = async (orgId: string) => {
    const p = `q:{o:${orgId}}:org`;
    const [spend, leases] = await Promise.all([r.get(`${p}:sd:${utcDay()}`), r.zcount(`${p}:cc`, Date.now(), '+inf')]);
    return { spend: Number(spend ?? 0), leases };
  };
  let steadyState = await state(steady.orgId);
  let leavingState = await state(leaving.orgId);
  for (let i = 0; i < 50 && (steadyState.leases + leavingState.leases > 0 || steadyState.spend !== totals.steadyCost); i++) {
    await sleep(100);
    [steadyState, leavingState] = [await state(steady.orgId), await state(leaving.orgId)];
  }
  r.disconnect();

  const window = Math.min(300, durationS / 2);
  const endT = rss.at(-1)!.t;
  const from = rss.reduce((best, s) => (Math.abs(s.t - (endT - window)) < Math.abs(best.t - (endT - window)) ? s : best), rss[0]!);
  const growth = replicas.map((_, i) => (rss.at(-1)!.mib[i]! - from.mib[i]!) / from.mib[i]!);
  const errors = [...totals.errors].sort((a, b) => b[1] - a[1]);
  const errorCount = errors.reduce((n, [, c]) => n + c, 0);
  const spendExact = steadyState.spend === totals.steadyCost;
  const leavingInBounds = leavingState.spend >= totals.leavingReadCost && leavingState.spend <= totals.leavingReservedCost;
  const pass = errorCount === 0 && growth.every((g) => g < 0.05) && steadyState.leases + leavingState.leases === 0 && spendExact && leavingInBounds;

  await stopAll();

  const minute = (t: number) => rss.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best), rss[0]!);
  const marks = Array.from(new Set([0, ...Array.from({ length: Math.floor(endT / 60) }, (_, i) => (i + 1) * 60), endT]));
  const section = [
    '## Soak',
    '',
    `\`npm run bench:soak\` (bench/soak/run.ts; ${new Date().toISOString().slice(0, 10)}; ${os.availableParallelism()} cores, Node ${process.version}): ${replicaCount} gateway replicas`,
    `(processes) × ${clientsPerReplica} concurrent clients each for ${durationS} s, ${podCount} simulator pods (${profile}); half the clients stream, a tenth leave`,
    'their streams after a few chunks. Method for the spend check: bench/soak/run.ts header.',
    '',
    `| | result | target |`,
    `|---|---|---|`,
    `| requests | ${totals.requests} (${totals.ok} complete, ${totals.left} left by their clients) | |`,
    `| errors | ${errorCount}${errors.length ? ` (${errors.map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''} | 0 |`,
    `| RSS growth, last ${window.toFixed(0)} s | ${growth.map((g, i) => `replica ${i + 1}: ${(g * 100).toFixed(1)} %`).join(', ')} | < 5 % |`,
    `| leases left | ${steadyState.leases + leavingState.leases} | 0 |`,
    `| spend, steady clients | counter ${steadyState.spend} µ = sum of settled costs ${totals.steadyCost} µ: ${spendExact ? 'equal' : 'DIFFERENT'} | equal |`,
    `| spend, leaving clients | counter ${leavingState.spend} µ within [read ${totals.leavingReadCost}, reserved ${totals.leavingReservedCost}]: ${leavingInBounds ? 'yes' : 'NO'} | within |`,
    '',
    `RSS (MiB) per replica: ${marks.map((t) => `${t.toFixed(0)} s ${minute(t).mib.map((m) => m.toFixed(0)).join('/')}`).join(' · ')}.`,
    '',
    `**${pass ? 'PASS' : 'FAIL'}** (wall ${((Date.now() - started) / 1000).toFixed(0)} s).`,
  ].join('\n');
  const outDir = path.join(ROOT, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'soak.json'), `${JSON.stringify({ flags, totals: { ...totals, errors: Object.fromEntries(totals.errors) }, steadyState, leavingState, rss, growth, pass }, null, 2)}\n`);
  process.stdout.write(`\n${section}\n`);
  if (full) {
    writeSection('soak', section);
    progress('wrote bench/RESULTS.md (soak section) and bench/out/soak.json');
  } else progress('a smoke run (shorter than 600 s or fewer than 200 clients): bench/RESULTS.md left unchanged');
  process.exitCode = pass ? 0 : 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  async (err) => {
    process.stderr.write(`bench:soak: ${err instanceof Error ? err.stack : String(err)}\n`);
    await stopAll();
    process.exit(1);
  },
);
