/**
 * Full-size request-body fuzzing (`npm run bench:fuzz`): the generators and checks of the CI suite
 * (test/fuzz/bodies.ts), ≥ 10,000 cases per endpoint, against a live gateway on this machine (real
 * PostgreSQL, Redis, tokenizers and simulator pods). Unlike the suite it does not stop at the first
 * bad answer: it counts every one (5xx, no answer, not an OpenAI error, a code from no known stage)
 * and keeps the first examples. Results (cases refused per stage, served, bad answers, crashes) go to
 * the `fuzz` section of bench/RESULTS.md and raw numbers to bench/out/fuzz.json.
 *
 * Flags: --runs N (per endpoint, default 10000), --seed N (default: the time), --concurrency N
 * (requests in flight, default 4). A run with --runs below 10000 leaves RESULTS.md alone.
 * Needs PostgreSQL and Redis: SWITCHYARD_DATABASE_URL (default
 * postgresql://postgres@127.0.0.1:5432/switchyard_bench, created and migrated if needed) and
 * SWITCHYARD_REDIS_URL (default redis://127.0.0.1:6379).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { ENDPOINTS, STAGES, Tally, fuzzCases, probe, type Endpoint, type FuzzCase, type FuzzTarget, type Tenant } from '../../test/fuzz/bodies.js';
import { bootGateway, createTenant, testCatalogue, uniqueSuffix } from '../../test/support/harness.js';
import { writeSection } from '../results.js';
import { progress } from '../support/processes.js';
import { ROOT, prepareDatabase } from '../support/setup.js';

const FULL_RUNS = 10_000;
const TIGHT_TPM = 3_000;
const BATCH = 250;

const { values: flags } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' }, concurrency: { type: 'string' } }, strict: true });
const runs = Number(flags.runs ?? FULL_RUNS);
const seed = Number(flags.seed ?? Date.now() % 2 ** 31);
const concurrency = Number(flags.concurrency ?? 4);

/** Uncaught errors in this process are the in-process gateway's: each one is a crash. */
const crashes: string[] = [];
process.on('uncaughtException', (err) => crashes.push(`uncaughtException: ${err.stack ?? err}`));
process.on('unhandledRejection', (err) => crashes.push(`unhandledRejection: ${(err as Error)?.stack ?? err}`));

interface EndpointResult {
  endpoint: Endpoint;
  cases: number;
  tally: Tally;
  bad: number;
  examples: string[];
  seconds: number;
}

async function fuzzEndpoint(endpoint: Endpoint, url: string, keys: Record<Tenant, string>, target: FuzzTarget): Promise<EndpointResult> {
  const tally = new Tally();
  const examples: string[] = [];
  let bad = 0;
  const started = performance.now();
  for (let done = 0, batch = 0; done < runs; batch++) {
    const cases = fc.sample(fuzzCases(endpoint, target), { numRuns: Math.min(BATCH, runs - done), seed: seed + ENDPOINTS.indexOf(endpoint) * 100_003 + batch });
    let next = 0;
    const worker = async () => {
      for (let c: FuzzCase | undefined; (c = cases[next++]); ) {
        try {
          tally.add(c, await probe(url, keys, c));
        } catch (err) {
          bad++;
          if (examples.length < 10) examples.push((err as Error).message.slice(0, 1200));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    done += cases.length;
    progress(`${endpoint}: ${done}/${runs} (${JSON.stringify(tally.stages)}, bad ${bad})`);
  }
  return { endpoint, cases: runs, tally, bad, examples, seconds: (performance.now() - started) / 1000 };
}

function render(results: EndpointResult[], meta: { seed: number; wallSeconds: number }): string {
  const head = `| endpoint | cases | ${STAGES.map((s) => (s === 'served' ? 'served' : `refused: ${s}`)).join(' | ')} | bad answers | time |`;
  const rows = results.map(
    (r) => `| ${r.endpoint} | ${r.cases} | ${STAGES.map((s) => r.tally.stages[s]).join(' | ')} | ${r.bad} | ${r.seconds.toFixed(0)} s |`,
  );
  const generators = [...new Set(results.flatMap((r) => [...r.tally.byGenerator.keys()]))].sort();
  const genRows = generators.map((g) => {
    const sum = (s: (typeof STAGES)[number]) => results.reduce((n, r) => n + (r.tally.byGenerator.get(g)?.[s] ?? 0), 0);
    return `| ${g} | ${STAGES.map(sum).join(' | ')} |`;
  });
  const codes = new Map<string, number>();
  for (const r of results) for (const [c, n] of r.tally.codes) codes.set(c, (codes.get(c) ?? 0) + n);
  const bad = results.reduce((n, r) => n + r.bad, 0);
  return [
    '## Request-body fuzzing',
    '',
    `\`npm run bench:fuzz\` (bench/fuzz/run.ts; seed ${meta.seed}, ${concurrency} requests in flight; ${os.availableParallelism()} cores, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}).`,
    'Generated bodies (test/fuzz/bodies.ts: garbage text, arbitrary objects, valid bodies with hostile fields — wrong types, huge, negative and',
    'overflowing numbers, NaN-like strings, unicode edge cases, deep nesting, repeated keys —, prompts past the context window, requests past a',
    `tenant's ${TIGHT_TPM} tokens per minute, and well-formed bodies) against one in-process gateway with simulator pods. A bad answer is a 5xx, no answer,`,
    "a body that is not OpenAI's error object, a status or type that disagrees with the code, or a code from no known stage.",
    "`runtime`: the pod's own 400 for a parameter it refused, passed on as invalid_request_error.",
    '',
    head,
    `|${'---|'.repeat(STAGES.length + 4)}`,
    ...rows,
    '',
    `Bad answers: **${bad}**; crashes (uncaught errors in the gateway's process): **${crashes.length}**. Wall time ${meta.wallSeconds.toFixed(0)} s.`,
    '',
    'Where each generator ended (all endpoints):',
    '',
    `| generator | ${STAGES.join(' | ')} |`,
    `|${'---|'.repeat(STAGES.length + 1)}`,
    ...genRows,
    '',
    `Error codes: ${[...codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')}.`,
    ...(bad ? ['', 'First bad answers:', '', '```', ...results.flatMap((r) => r.examples).slice(0, 5), '```'] : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  process.env.SWITCHYARD_DATABASE_URL ||= 'postgresql://postgres@127.0.0.1:5432/switchyard_bench';
  process.env.SWITCHYARD_REDIS_URL ||= 'redis://127.0.0.1:6379';
  progress(`setup: database ${new URL(process.env.SWITCHYARD_DATABASE_URL).pathname.slice(1)}, migrations`);
  await prepareDatabase(process.env.SWITCHYARD_DATABASE_URL, process.env.SWITCHYARD_REDIS_URL);
  const suffix = uniqueSuffix();
  const base = testCatalogue(suffix, { profile: 'zero' });
  const catalogue = { ...base, tiers: { ...base.tiers, free: { rpm: null, tpm: TIGHT_TPM, concurrency: null, dailySpend: null, monthlySpend: null, softDailySpend: null, softMonthlySpend: null } } };
  const gw = await bootGateway(catalogue, { SWITCHYARD_LOG_LEVEL: 'silent' });
  const results: EndpointResult[] = [];
  try {
    const [roomy, tight] = await Promise.all([createTenant(gw.gateway, { tier: 'enterprise' }), createTenant(gw.gateway, { tier: 'free' })]);
    const keys = { roomy: roomy.apiKey, tight: tight.apiKey };
    const target: FuzzTarget = { models: { chat: gw.names.chat, embed: gw.names.embed }, contextWindow: { chat: 4096, embed: 8192 }, tightTpm: TIGHT_TPM };
    progress(`fuzzing ${runs} cases per endpoint, seed ${seed}, ${concurrency} in flight`);
    for (const endpoint of ENDPOINTS) results.push(await fuzzEndpoint(endpoint, gw.url, keys, target));
    const health = await fetch(`${gw.url}/health`);
    if (health.status !== 200) crashes.push(`/health answered ${health.status} after the run`);
  } finally {
    await gw.close();
  }
  const section = render(results, { seed, wallSeconds: (performance.now() - started) / 1000 });
  const outDir = path.join(ROOT, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    path.join(outDir, 'fuzz.json'),
    `${JSON.stringify({ seed, runs, concurrency, crashes, results: results.map((r) => ({ ...r, tally: { stages: r.tally.stages, byGenerator: Object.fromEntries(r.tally.byGenerator), codes: Object.fromEntries(r.tally.codes) } })) }, null, 2)}\n`,
  );
  process.stdout.write(`\n${section}\n`);
  if (runs >= FULL_RUNS) {
    writeSection('fuzz', section);
    progress('wrote bench/RESULTS.md (fuzz section) and bench/out/fuzz.json');
  } else progress(`--runs ${runs} is below ${FULL_RUNS}: bench/RESULTS.md left unchanged`);
  const failed = results.some((r) => r.bad > 0) || crashes.length > 0;
  process.exitCode = failed ? 1 : 0;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    process.stderr.write(`bench:fuzz: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
