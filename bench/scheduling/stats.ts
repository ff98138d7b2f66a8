/** Summaries of a phase's samples: latency percentiles, throughput, goodput under an SLO. */
import { readFileSync } from 'node:fs';
import type { Sample } from './load.js';

export interface Slo {
  /** Time to first token, ms. */
  ttftMs: number;
  /** Mean gap between output chunks of the request, ms. */
  itlMs: number;
}

export interface Summary {
  requests: number;
  ok: number;
  errors: Record<string, number>;
  ttftP50: number;
  ttftP90: number;
  ttftP99: number;
  itlP50: number;
  itlP99: number;
  /** Output tokens per second over the measurement window (requests completed in it). */
  throughput: number;
  /** Requests per second completed in the window within the SLO. */
  goodput: number;
  /** Share of measured requests within the SLO. */
  sloAttainment: number;
  /** Prompt tokens served from the prefix cache, as the runtime reported them to the client. */
  clientCacheHitRate: number;
  meanPromptTokens: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/**
 * `samples` of a phase whose measurement window is [fromMs, toMs] (ms since the phase start): latency
 * percentiles over requests that started in the window; throughput and goodput over those completed
 * in it.
 */
export function summarise(samples: readonly Sample[], fromMs: number, toMs: number, slo: Slo): Summary {
  const measured = samples.filter((s) => s.startMs >= fromMs && s.startMs < toMs);
  const ok = measured.filter((s) => s.status === 200 && !s.error);
  const errors: Record<string, number> = {};
  for (const s of measured) if (s.status !== 200 || s.error) errors[s.error ?? `http_${s.status}`] = (errors[s.error ?? `http_${s.status}`] ?? 0) + 1;
  // A failed request has no first token: it counts as infinitely slow in the TTFT percentiles.
  const ttfts = measured.map((s) => (s.status === 200 && !s.error && s.ttftMs !== undefined ? s.ttftMs : Infinity)).sort((a, b) => a - b);
  const gaps = ok.flatMap((s) => s.gaps).sort((a, b) => a - b);
  const seconds = (toMs - fromMs) / 1000;
  const completedInWindow = samples.filter((s) => s.status === 200 && !s.error && s.startMs + s.e2eMs >= fromMs && s.startMs + s.e2eMs < toMs);
  const meetsSlo = (s: Sample) => s.ttftMs !== undefined && s.ttftMs <= slo.ttftMs && meanGap(s) <= slo.itlMs;
  const prompt = ok.reduce((n, s) => n + s.promptTokens, 0);
  const cached = ok.reduce((n, s) => n + s.cachedTokens, 0);
  return {
    requests: measured.length,
    ok: ok.length,
    errors,
    ttftP50: percentile(ttfts, 50),
    ttftP90: percentile(ttfts, 90),
    ttftP99: percentile(ttfts, 99),
    itlP50: percentile(gaps, 50),
    itlP99: percentile(gaps, 99),
    throughput: completedInWindow.reduce((n, s) => n + s.outputTokens, 0) / seconds,
    goodput: completedInWindow.filter(meetsSlo).length / seconds,
    sloAttainment: measured.length ? ok.filter(meetsSlo).length / measured.length : Number.NaN,
    clientCacheHitRate: prompt ? cached / prompt : 0,
    meanPromptTokens: ok.length ? prompt / ok.length : 0,
  };
}

function meanGap(s: Sample): number {
  return s.gaps.length ? s.gaps.reduce((a, b) => a + b, 0) / s.gaps.length : 0;
}

/** Busy CPU time of the whole machine so far (ms), from /proc/stat. */
export function machineBusyMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return ((user + nice + system + irq + softirq + (steal ?? 0)) * 1000) / 100;
}

/** CPU time (user + system) a process has used so far, ms; 0 when it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}
