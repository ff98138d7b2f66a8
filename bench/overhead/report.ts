/**
 * Turns raw overhead-benchmark samples into summaries, the markdown section of bench/RESULTS.md and
 * the JSON written to bench/out/. run.ts puts the section between `<!-- overhead:start -->` and
 * `<!-- overhead:end -->` with bench/results.ts; nothing else in RESULTS.md is touched.
 */
import type { ChunkRateResult, ClosedLoopResult, OpenLoopResult, StreamTtftResult } from './load.js';
import { percentile } from './load.js';
import type { ProcessUsage } from './procstat.js';

export type ArmName = 'direct' | 'bare' | 'switchyard';

export interface PhaseSample {
  phase: 'throughput' | 'latency' | 'ttft' | 'chunks';
  arm: ArmName;
  round: number;
  /** CPU and peak RSS per process over the measured window (sim, bare, gateway, client). */
  usage: Record<string, ProcessUsage>;
  /** Requests served during the warm-up before this sample (throughput phase). */
  warmupRequests?: number;
  throughput?: ClosedLoopResult;
  latency?: OpenLoopResult;
  ttft?: StreamTtftResult;
  chunks?: ChunkRateResult;
}

export interface BenchResults {
  date: string;
  command: string;
  flags: string[];
  partial: boolean;
  machine: { nproc: number; cpuModel: string; memGiB: number; node: string; platform: string };
  git?: string;
  model: string;
  params: {
    rounds: number;
    throughput: { connections: number; warmupS: number; durationS: number };
    latency: { rate: number; warmupS: number; durationS: number };
    ttft: { requests: number; concurrency: number; warmupRequests: number };
    chunks: { concurrency: number; warmupS: number; durationS: number };
    nonStreamMaxTokens: number;
    streamMaxTokens: number;
  };
  bodies: { nonStream: string; stream: string };
  /** Which key the requests carried. */
  auth: string;
  /** Which Redis the gateway used. */
  redis: string;
  sanity: Record<ArmName, { status: number; completionTokens: number; chunksPerStream: number }>;
  rss: { idle: Record<'gateway' | 'bare' | 'sim', number>; idleAfter: Record<'gateway' | 'bare' | 'sim', number> };
  /** CPU used with no traffic over 3 s after start-up, in cores. */
  idleCpuCores: Record<'gateway' | 'bare', number>;
  samples: PhaseSample[];
  wallSeconds: number;
}

const ARMS: ArmName[] = ['direct', 'bare', 'switchyard'];
const LABEL: Record<ArmName, string> = { direct: 'sim pod, direct', bare: 'bare proxy', switchyard: 'Switchyard' };
/** The process between client and pod in each arm. */
const MIDDLE: Record<ArmName, 'bare' | 'gateway' | undefined> = { direct: undefined, bare: 'bare', switchyard: 'gateway' };

export const TARGETS = { throughputRatio: 0.7, addedP50Ms: 1 };

// ---------------------------------------------------------------------------------------------------
// Summaries

interface Dist {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function dist(values: number[]): Dist {
  return { n: values.length, p50: percentile(values, 0.5), p90: percentile(values, 0.9), p99: percentile(values, 0.99), max: values.length ? values.reduce((m, v) => (v > m ? v : m), -Infinity) : NaN };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Cores' worth of CPU that other processes on the machine used during a sample. */
function othersCores(sample: PhaseSample): number {
  const others = sample.usage.others?.cpuMs;
  const wall = sample.usage.wall?.cpuMs;
  return others !== undefined && wall ? others / wall : Number.NaN;
}

export interface ArmSummary {
  throughput?: {
    rpsPerRound: number[];
    rps: number;
    latency: Dist;
    errors: number;
    middleCpuUsPerReq?: number;
    simCpuUsPerReq: number;
    clientCpuUsPerReq: number;
    /** Redis + PostgreSQL CPU per request (shared services; near zero when nothing else uses them). */
    servicesCpuUsPerReq: number;
    /** Requests/s the middle process could serve with one full core, from its CPU per request. */
    middleOneCoreRps?: number;
    /** Cores used by other processes on the machine during the samples (mean, max over rounds). */
    noiseCores: number[];
  };
  latency?: { achievedRps: number; latency: Dist; p50PerRound: number[]; errors: number; middleCpuUsPerReq?: number; sendLagP99Ms: number; noiseCores: number[] };
  ttft?: { ttft: Dist; total: Dist; p50PerRound: number[]; errors: number; chunksPerStream: number; noiseCores: number[] };
  chunks?: { chunksPerSecondPerRound: number[]; chunksPerSecond: number; streamsPerSecond: number; errors: number; middleCpuUsPerChunk?: number; noiseCores: number[] };
}

export interface Summary {
  arms: Partial<Record<ArmName, ArmSummary>>;
  targets: {
    throughputRatio?: number;
    throughputMet?: boolean;
    addedP50Ms?: number;
    addedP50Met?: boolean;
  };
  peakRss: Record<'gateway' | 'bare' | 'sim', { mib: number; during?: string }>;
  /** Cores used by other processes during the measurements: mean and max over all samples. */
  noise: { meanCores: number; maxCores: number };
}

export function summarize(r: BenchResults): Summary {
  const arms: Partial<Record<ArmName, ArmSummary>> = {};
  for (const arm of ARMS) {
    const of = (phase: PhaseSample['phase']) => r.samples.filter((s) => s.arm === arm && s.phase === phase);
    const middle = MIDDLE[arm];
    const s: ArmSummary = {};

    const tp = of('throughput');
    if (tp.length) {
      const reqs = sum(tp.map((x) => x.throughput!.requests));
      const cpu = (name: string) => sum(tp.map((x) => x.usage[name]?.cpuMs ?? 0));
      const middleCpu = middle ? (cpu(middle) * 1000) / reqs : undefined;
      s.throughput = {
        rpsPerRound: tp.map((x) => x.throughput!.rps),
        rps: mean(tp.map((x) => x.throughput!.rps)),
        latency: dist(tp.flatMap((x) => x.throughput!.latenciesMs)),
        errors: sum(tp.map((x) => x.throughput!.errors + x.throughput!.non2xx)),
        middleCpuUsPerReq: middleCpu,
        simCpuUsPerReq: (cpu('sim') * 1000) / reqs,
        clientCpuUsPerReq: (cpu('client') * 1000) / reqs,
        servicesCpuUsPerReq: ((cpu('services') + cpu('redis')) * 1000) / reqs,
        middleOneCoreRps: middleCpu ? 1e6 / middleCpu : undefined,
        noiseCores: tp.map(othersCores),
      };
    }

    const lt = of('latency');
    if (lt.length) {
      const reqs = sum(lt.map((x) => x.latency!.ok));
      s.latency = {
        achievedRps: mean(lt.map((x) => x.latency!.achievedRps)),
        latency: dist(lt.flatMap((x) => x.latency!.latenciesMs)),
        p50PerRound: lt.map((x) => percentile(x.latency!.latenciesMs, 0.5)),
        errors: sum(lt.map((x) => x.latency!.errors)),
        middleCpuUsPerReq: middle ? (sum(lt.map((x) => x.usage[middle]?.cpuMs ?? 0)) * 1000) / reqs : undefined,
        sendLagP99Ms: Math.max(...lt.map((x) => x.latency!.sendLagP99Ms)),
        noiseCores: lt.map(othersCores),
      };
    }

    const tt = of('ttft');
    if (tt.length) {
      s.ttft = {
        ttft: dist(tt.flatMap((x) => x.ttft!.ttftMs)),
        total: dist(tt.flatMap((x) => x.ttft!.totalMs)),
        p50PerRound: tt.map((x) => percentile(x.ttft!.ttftMs, 0.5)),
        errors: sum(tt.map((x) => x.ttft!.errors)),
        chunksPerStream: mean(tt.flatMap((x) => x.ttft!.chunksPerStream)),
        noiseCores: tt.map(othersCores),
      };
    }

    const ch = of('chunks');
    if (ch.length) {
      const chunks = sum(ch.map((x) => x.chunks!.chunks));
      s.chunks = {
        chunksPerSecondPerRound: ch.map((x) => x.chunks!.chunksPerSecond),
        chunksPerSecond: mean(ch.map((x) => x.chunks!.chunksPerSecond)),
        streamsPerSecond: mean(ch.map((x) => x.chunks!.streamsPerSecond)),
        errors: sum(ch.map((x) => x.chunks!.errors)),
        middleCpuUsPerChunk: middle ? (sum(ch.map((x) => x.usage[middle]?.cpuMs ?? 0)) * 1000) / chunks : undefined,
        noiseCores: ch.map(othersCores),
      };
    }
    arms[arm] = s;
  }

  const targets: Summary['targets'] = {};
  const sy = arms.switchyard;
  const bare = arms.bare;
  if (sy?.throughput && bare?.throughput) {
    targets.throughputRatio = sy.throughput.rps / bare.throughput.rps;
    targets.throughputMet = targets.throughputRatio >= TARGETS.throughputRatio;
  }
  if (sy?.latency && bare?.latency) {
    targets.addedP50Ms = sy.latency.latency.p50 - bare.latency.latency.p50;
    targets.addedP50Met = targets.addedP50Ms <= TARGETS.addedP50Ms;
  }

  const peakRss = {} as Summary['peakRss'];
  for (const proc of ['gateway', 'bare', 'sim'] as const) {
    let best = { mib: r.rss.idle[proc], during: undefined as string | undefined };
    // Only windows that load this process: RSS stays up after a phase, so later windows of other arms
    // would otherwise be named as the peak.
    for (const sample of r.samples.filter((x) => proc === 'sim' || MIDDLE[x.arm] === proc)) {
      const mib = sample.usage[proc]?.peakRssMiB ?? 0;
      if (mib > best.mib) best = { mib, during: `${sample.phase}, ${LABEL[sample.arm]} arm` };
    }
    peakRss[proc] = best;
  }
  const noise = r.samples.map(othersCores).filter((x) => !Number.isNaN(x));
  return { arms, targets, peakRss, noise: { meanCores: mean(noise), maxCores: noise.length ? Math.max(...noise) : Number.NaN } };
}

// ---------------------------------------------------------------------------------------------------
// Markdown

const f = (x: number | undefined, digits = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
const signed = (x: number | undefined, digits = 3) => (x === undefined || Number.isNaN(x) ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`);
const int = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : Math.round(x).toLocaleString('en-US'));
const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(0)} %`);

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderSection(r: BenchResults): string {
  const s = summarize(r);
  const p = r.params;
  const a = s.arms;
  const present = ARMS.filter((arm) => a[arm] && Object.keys(a[arm]!).length);
  const lines: string[] = [];
  const date = r.date.slice(0, 10);
  lines.push('## Gateway overhead', '');
  lines.push(
    `Measured ${date} on ${r.machine.nproc} CPU cores (${r.machine.cpuModel}), ${r.machine.memGiB.toFixed(0)} GiB RAM, ` +
      `Node ${r.machine.node}, ${r.machine.platform}${r.git ? `, commit ${r.git}` : ''}. Wall time ${r.wallSeconds.toFixed(0)} s.`,
    '',
    '```bash',
    r.partial ? `node dist/bench/overhead/run.js ${r.flags.join(' ')}   # partial run` : r.command,
    '```',
    '',
    `Three arms, same client, same request, one machine: **sim pod, direct** (one \`runtimes/sim\` pod, profile \`zero\`: no ` +
      `step latency, so everything measured is HTTP and JSON work), **bare proxy** (\`bench/overhead/bare-proxy.ts\`: node:http + ` +
      `one undici Pool, pass-through, no checks — the floor for a Node gateway) and **Switchyard** (\`node dist/src/main.js\`, ` +
      `static pool pointing at the same pod, log level warn). Request: chat completion for \`${r.model}\`, ` +
      `max_tokens ${p.nonStreamMaxTokens} (streams: ${p.streamMaxTokens}, \`stream: true\`), \`ignore_eos\` so every answer has ` +
      `exactly that many tokens, \`Authorization\` sent to every arm. ${p.rounds} interleaved round${p.rounds > 1 ? 's' : ''} ` +
      `(arm order reversed every round); percentiles pool all rounds. "proxy CPU" is the user+system CPU time of the process ` +
      `in the middle (bare proxy or Switchyard) from /proc, divided by the requests (or chunks) it served. Load generator, pod and ` +
      `proxy share the ${r.machine.nproc} cores. Other processes on the machine used ${f(s.noise.meanCores)} cores on average ` +
      `(max ${f(s.noise.maxCores)}) during the measured windows${s.noise.maxCores > 0.1 ? ' — the machine was not quiet; compare per-round values' : ''}.`,
    '',
  );

  // Targets
  lines.push('### Targets', '');
  const t = s.targets;
  lines.push(
    table(
      ['target', 'measured', 'met'],
      [
        [`Switchyard throughput ≥ ${TARGETS.throughputRatio * 100} % of the bare proxy`, pct(t.throughputRatio), t.throughputMet === undefined ? '–' : t.throughputMet ? 'yes' : '**no**'],
        [
          `added p50 latency vs bare proxy ≤ ${TARGETS.addedP50Ms} ms (at ${p.latency.rate} req/s)`,
          t.addedP50Ms === undefined ? '–' : `${signed(t.addedP50Ms)} ms`,
          t.addedP50Met === undefined ? '–' : t.addedP50Met ? 'yes' : '**no**',
        ],
      ],
    ),
    '',
  );

  // Throughput
  if (present.some((arm) => a[arm]!.throughput)) {
    lines.push(`### Throughput (non-streaming, ${p.throughput.connections} connections, ${p.throughput.durationS} s after a ${p.throughput.warmupS} s warm-up)`, '');
    const bare = a.bare?.throughput;
    lines.push(
      table(
        ['arm', 'req/s', 'per round', '% of bare proxy', 'p50 ms', 'p99 ms', 'proxy CPU µs/req', 'Redis+PG CPU µs/req', 'sim CPU µs/req', 'client CPU µs/req', 'other procs, cores', 'errors'],
        present
          .filter((arm) => a[arm]!.throughput)
          .map((arm) => {
            const x = a[arm]!.throughput!;
            return [
              LABEL[arm],
              int(x.rps),
              x.rpsPerRound.map(int).join(', '),
              bare ? pct(x.rps / bare.rps) : '–',
              f(x.latency.p50),
              f(x.latency.p99),
              f(x.middleCpuUsPerReq, 0),
              f(x.servicesCpuUsPerReq, 0),
              f(x.simCpuUsPerReq, 0),
              f(x.clientCpuUsPerReq, 0),
              x.noiseCores.map((v) => f(v)).join(', '),
              String(x.errors),
            ];
          }),
      ),
      '',
    );
  }

  // Latency
  if (present.some((arm) => a[arm]!.latency)) {
    lines.push(`### Latency at a fixed rate (open loop, ${p.latency.rate} req/s, ${p.latency.durationS} s per round)`, '');
    const direct = a.direct?.latency;
    const bare = a.bare?.latency;
    lines.push(
      table(
        ['arm', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p50 per round', 'added p50 vs direct', 'added p50 vs bare', 'added p99 vs bare', 'proxy CPU µs/req', 'other procs, cores'],
        present
          .filter((arm) => a[arm]!.latency)
          .map((arm) => {
            const x = a[arm]!.latency!;
            return [
              LABEL[arm],
              int(x.achievedRps),
              f(x.latency.p50, 3),
              f(x.latency.p90, 3),
              f(x.latency.p99, 3),
              f(x.latency.max, 1),
              x.p50PerRound.map((v) => f(v, 3)).join(', '),
              direct && arm !== 'direct' ? signed(x.latency.p50 - direct.latency.p50) : '',
              bare && arm === 'switchyard' ? signed(x.latency.p50 - bare.latency.p50) : '',
              bare && arm === 'switchyard' ? signed(x.latency.p99 - bare.latency.p99) : '',
              f(x.middleCpuUsPerReq, 0),
              x.noiseCores.map((v) => f(v)).join(', '),
            ];
          }),
      ),
      '',
    );
  }

  // TTFT
  if (present.some((arm) => a[arm]!.ttft)) {
    lines.push(
      `### Streaming: time to first token (${p.ttft.requests} streams per round, ${p.ttft.concurrency} at a time, max_tokens ${p.streamMaxTokens})`,
      '',
      'Client-measured time from sending the request to the first body chunk containing `data:`.',
      '',
    );
    const direct = a.direct?.ttft;
    const bare = a.bare?.ttft;
    lines.push(
      table(
        ['arm', 'TTFT p50 ms', 'TTFT p99 ms', 'p50 per round', 'added p50 vs direct', 'added p50 vs bare', 'added p99 vs bare', 'whole stream p50 ms', 'chunks/stream', 'other procs, cores'],
        present
          .filter((arm) => a[arm]!.ttft)
          .map((arm) => {
            const x = a[arm]!.ttft!;
            return [
              LABEL[arm],
              f(x.ttft.p50, 3),
              f(x.ttft.p99, 3),
              x.p50PerRound.map((v) => f(v, 3)).join(', '),
              direct && arm !== 'direct' ? signed(x.ttft.p50 - direct.ttft.p50) : '',
              bare && arm === 'switchyard' ? signed(x.ttft.p50 - bare.ttft.p50) : '',
              bare && arm === 'switchyard' ? signed(x.ttft.p99 - bare.ttft.p99) : '',
              f(x.total.p50, 3),
              f(x.chunksPerStream, 1),
              x.noiseCores.map((v) => f(v)).join(', '),
            ];
          }),
      ),
      '',
    );
  }

  // Chunk rate
  if (present.some((arm) => a[arm]!.chunks)) {
    lines.push(`### Streaming: chunk rate (${p.chunks.concurrency} concurrent streams back to back, ${p.chunks.durationS} s per round)`, '');
    const bare = a.bare?.chunks;
    lines.push(
      table(
        ['arm', 'chunks/s', 'per round', '% of bare proxy', 'streams/s', 'proxy CPU µs/chunk', 'other procs, cores', 'errors'],
        present
          .filter((arm) => a[arm]!.chunks)
          .map((arm) => {
            const x = a[arm]!.chunks!;
            return [
              LABEL[arm],
              int(x.chunksPerSecond),
              x.chunksPerSecondPerRound.map(int).join(', '),
              bare ? pct(x.chunksPerSecond / bare.chunksPerSecond) : '–',
              f(x.streamsPerSecond, 0),
              f(x.middleCpuUsPerChunk, 1),
              x.noiseCores.map((v) => f(v)).join(', '),
              String(x.errors),
            ];
          }),
      ),
      '',
    );
  }

  // Memory
  lines.push('### Memory (VmRSS, MiB) and idle CPU', '');
  lines.push(
    table(
      ['process', 'RSS idle after start', 'RSS peak under load', 'peak during', 'RSS idle after load', 'CPU with no traffic'],
      (
        [
          ['Switchyard', 'gateway'],
          ['bare proxy', 'bare'],
          ['sim pod', 'sim'],
        ] as const
      ).map(([label, key]) => [
        label,
        f(r.rss.idle[key], 1),
        f(s.peakRss[key].mib, 1),
        s.peakRss[key].during ?? '–',
        f(r.rss.idleAfter[key], 1),
        key === 'sim' ? '–' : `${f((r.idleCpuCores?.[key] ?? NaN) * 100, 1)} % of a core`,
      ]),
    ),
    '',
  );

  lines.push('### Reading', '', ...reading(r, s).map((line) => `- ${line}`), '');
  return lines.join('\n');
}

function sampleErrors(x: PhaseSample): number {
  if (x.throughput) return x.throughput.errors + x.throughput.non2xx;
  return x.latency?.errors ?? x.ttft?.errors ?? x.chunks?.errors ?? 0;
}

function sampleErrorExample(x: PhaseSample): string {
  if (x.throughput) return `status codes ${JSON.stringify(x.throughput.statusCodes)}`;
  const sample = x.latency?.errorSamples[0] ?? x.ttft?.errorSamples[0] ?? x.chunks?.errorSamples[0] ?? '';
  return sample.slice(0, 120);
}

function reading(r: BenchResults, s: Summary): string[] {
  const out: string[] = [];
  const a = s.arms;
  const t = s.targets;
  const sy = a.switchyard;
  const bare = a.bare;
  const direct = a.direct;
  if (t.throughputRatio !== undefined && sy?.throughput && bare?.throughput) {
    out.push(
      `Throughput: Switchyard serves ${int(sy.throughput.rps)} req/s, ${pct(t.throughputRatio)} of the bare proxy's ${int(bare.throughput.rps)} req/s ` +
        `(target ≥ ${TARGETS.throughputRatio * 100} %: ${t.throughputMet ? 'met' : '**missed**'})` +
        (direct?.throughput ? `; the pod alone does ${int(direct.throughput.rps)} req/s.` : '.'),
    );
  }
  if (sy?.throughput?.middleCpuUsPerReq !== undefined && bare?.throughput?.middleCpuUsPerReq !== undefined) {
    const ratio = sy.throughput.middleCpuUsPerReq / bare.throughput.middleCpuUsPerReq;
    out.push(
      `CPU per request: Switchyard spends ${f(sy.throughput.middleCpuUsPerReq, 0)} µs of CPU per non-streaming request, ` +
        `the bare proxy ${f(bare.throughput.middleCpuUsPerReq, 0)} µs (${f(ratio, 1)}×), so with one core to itself Switchyard would top out near ` +
        `${int(sy.throughput.middleOneCoreRps)} req/s and the bare proxy near ${int(bare.throughput.middleOneCoreRps)} req/s. With ${r.machine.nproc} cores ` +
        `shared by the load generator (${f(sy.throughput.clientCpuUsPerReq, 0)} µs/req), the pod (${f(sy.throughput.simCpuUsPerReq, 0)} µs/req) and the ` +
        `proxy, measured throughput is roughly the cores divided by the sum of those costs, which is why the ratio of measured throughputs ` +
        `is milder than the ratio of proxy CPU costs.` +
        (sy.throughput.servicesCpuUsPerReq >= 5
          ? ` Switchyard also costs ${f(sy.throughput.servicesCpuUsPerReq, 0)} µs/req of Redis and PostgreSQL CPU, on the same cores.`
          : ''),
    );
  }
  if (t.addedP50Ms !== undefined && sy?.latency && bare?.latency) {
    out.push(
      `Latency at ${r.params.latency.rate} req/s (open loop, far below saturation): Switchyard p50 ${f(sy.latency.latency.p50, 3)} ms vs bare proxy ` +
        `${f(bare.latency.latency.p50, 3)} ms: ${signed(t.addedP50Ms)} ms added (target ≤ ${TARGETS.addedP50Ms} ms: ${t.addedP50Met ? 'met' : '**missed**'}); ` +
        `p99 ${f(sy.latency.latency.p99, 3)} vs ${f(bare.latency.latency.p99, 3)} ms.` +
        (direct?.latency ? ` The bare proxy itself adds ${signed(bare.latency.latency.p50 - direct.latency.latency.p50)} ms p50 over the pod.` : ''),
    );
  }
  if (sy?.ttft && bare?.ttft) {
    out.push(
      `Time to first token: Switchyard adds ${signed(sy.ttft.ttft.p50 - bare.ttft.ttft.p50)} ms p50 / ${signed(sy.ttft.ttft.p99 - bare.ttft.ttft.p99)} ms p99 ` +
        `over the bare proxy` +
        (direct?.ttft ? ` and ${signed(sy.ttft.ttft.p50 - direct.ttft.ttft.p50)} ms p50 over the pod` : '') +
        `. It waits for the pod's first chunk before sending headers (retry before first byte), so its first byte and first chunk coincide.`,
    );
  }
  if (sy?.chunks && bare?.chunks) {
    out.push(
      `Streaming: ${int(sy.chunks.chunksPerSecond)} chunks/s through Switchyard vs ${int(bare.chunks.chunksPerSecond)} through the bare proxy ` +
        `(${pct(sy.chunks.chunksPerSecond / bare.chunks.chunksPerSecond)}); per chunk Switchyard uses ${f(sy.chunks.middleCpuUsPerChunk, 1)} µs of CPU, ` +
        `the bare proxy ${f(bare.chunks.middleCpuUsPerChunk, 1)} µs (Switchyard parses every SSE event, rewrites \`model\` and re-serialises it; ` +
        `the bare proxy copies bytes).`,
    );
  }
  const errors = r.samples.filter((x) => sampleErrors(x) > 0);
  if (errors.length) {
    out.push(
      `**Errors** in ${errors.length} measured window(s): ` +
        errors.map((x) => `${x.phase} round ${x.round} ${LABEL[x.arm]}: ${sampleErrors(x)} (${sampleErrorExample(x)})`).join('; ') +
        '. Numbers from those windows are not comparable.',
    );
  }
  if (s.noise.meanCores > 0.15) {
    out.push(
      `Noise: other processes on this machine used ${f(s.noise.meanCores)} cores on average (max ${f(s.noise.maxCores)}) while measuring, ` +
        `on a ${r.machine.nproc}-core machine. Absolute numbers and differences of a few tens of percent between rounds are within that noise; ` +
        `the CPU-per-request columns are the most stable figures.`,
    );
  }
  const statuses = ARMS.map((arm) => r.sanity[arm]?.status);
  if (statuses.every((c) => c !== undefined) && new Set(statuses).size !== 1) {
    out.push(
      `Note: non-streaming status codes differ (pod ${statuses[0]}, bare proxy ${statuses[1]}, Switchyard ${statuses[2]}); OpenAI answers 200. ` +
        `Every 2xx counts as success here.`,
    );
  }
  const chunkCounts = ARMS.map((arm) => r.sanity[arm]?.chunksPerStream);
  if (chunkCounts.every((c) => c !== undefined) && new Set(chunkCounts).size !== 1) {
    out.push(`Note: the arms did not deliver the same number of chunks per stream (${chunkCounts.join(' / ')}), so chunk rates are not like for like.`);
  }
  out.push(
    `Memory: Switchyard idles at ${f(r.rss.idle.gateway, 0)} MiB RSS and peaked at ${f(s.peakRss.gateway.mib, 0)} MiB under load; ` +
      `the bare proxy ${f(r.rss.idle.bare, 0)} → ${f(s.peakRss.bare.mib, 0)} MiB.`,
  );
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Files

/** The JSON written to bench/out: summaries plus raw samples (closed-loop latencies reduced to percentiles). */
export function toJson(r: BenchResults): unknown {
  const round3 = (xs: number[]) => xs.map((x) => Math.round(x * 1000) / 1000);
  return {
    ...r,
    summary: summarize(r),
    samples: r.samples.map((sample) => ({
      ...sample,
      throughput: sample.throughput && { ...sample.throughput, latenciesMs: undefined, latency: dist(sample.throughput.latenciesMs) },
      latency: sample.latency && { ...sample.latency, latenciesMs: round3(sample.latency.latenciesMs), scheduledLatenciesMs: undefined, scheduledLatency: dist(sample.latency.scheduledLatenciesMs) },
      ttft: sample.ttft && { ...sample.ttft, ttftMs: round3(sample.ttft.ttftMs), totalMs: round3(sample.ttft.totalMs) },
    })),
  };
}
