/**
 * Load drivers for the overhead benchmark. Every arm (pod direct, bare proxy, Switchyard) is driven by
 * the same client code, so client cost is the same constant in every arm.
 *
 * - closedLoop: autocannon at fixed concurrency (throughput); latencies taken from autocannon's raw
 *   per-response times (its own histogram rounds to whole milliseconds).
 * - openLoop: requests fired on a fixed schedule regardless of responses (latency at a fixed rate).
 *   autocannon's `overallRate` is not used for this: it is a per-connection budget per second, so each
 *   connection sends its share back to back at the top of every second and then idles — bursts, not a
 *   steady rate. Here request i is due at start + i/rate; a late timer sends everything that is due.
 * - streamTtft / streamChunkRate: SSE streams read chunk by chunk with undici.
 */
import autocannon from 'autocannon';
import { Pool } from 'undici';

export interface Target {
  /** Origin, e.g. http://127.0.0.1:8000 */
  origin: string;
  path: string;
  headers: Record<string, string>;
}

export interface ClosedLoopResult {
  connections: number;
  durationS: number;
  requests: number;
  rps: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Responses by status code (autocannon's statusCodeStats). */
  statusCodes: Record<string, number>;
  latenciesMs: number[];
}

/** autocannon at `connections` concurrent keep-alive connections for `durationS` seconds. */
export function closedLoop(target: Target, body: string, connections: number, durationS: number): Promise<ClosedLoopResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let ok = 0;
    const started = performance.now();
    const instance = autocannon(
      {
        url: `${target.origin}${target.path}`,
        method: 'POST',
        headers: target.headers,
        body,
        connections,
        duration: durationS,
        timeout: 10,
      },
      (err, result) => {
        if (err) return reject(err);
        const elapsedS = Math.min((performance.now() - started) / 1000, result.duration || durationS);
        resolve({
          connections,
          durationS: elapsedS,
          requests: ok,
          rps: ok / elapsedS,
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, v]) => [code, v.count])),
          latenciesMs: latencies,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        latencies.push(responseTime);
      }
    });
  });
}

export interface OpenLoopResult {
  rate: number;
  durationS: number;
  sent: number;
  ok: number;
  errors: number;
  achievedRps: number;
  /** From the moment the request was handed to the client to the end of the response body. */
  latenciesMs: number[];
  /** From the moment the request was due (schedule) to the end of the body: includes client lag. */
  scheduledLatenciesMs: number[];
  /** How late requests were sent relative to their schedule (client timer lag), p99 in ms. */
  sendLagP99Ms: number;
  /** First few failures, "HTTP 429 {...}" or the error message. */
  errorSamples: string[];
}

/** Fires `rate` requests per second for `durationS` seconds on a fixed schedule (open loop). */
export async function openLoop(target: Target, body: string, rate: number, durationS: number): Promise<OpenLoopResult> {
  const pool = new Pool(target.origin, { connections: 128, keepAliveTimeout: 30_000 });
  const headers = target.headers;
  const total = Math.round(rate * durationS);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  const scheduled: number[] = [];
  const lags: number[] = [];
  let ok = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const inflight = new Set<Promise<void>>();

  const fire = (due: number) => {
    const sentAt = performance.now();
    lags.push(sentAt - due);
    const p = pool
      .request({ path: target.path, method: 'POST', headers, body })
      .then(async (res) => {
        if (res.statusCode < 200 || res.statusCode >= 300) {
          errors++;
          const text = await res.body.text().catch(() => '');
          if (errorSamples.length < 3) errorSamples.push(`HTTP ${res.statusCode} ${text.slice(0, 200)}`);
          return;
        }
        await res.body.dump({ limit: Infinity });
        const end = performance.now();
        ok++;
        latencies.push(end - sentAt);
        scheduled.push(end - due);
      })
      .catch((err: Error) => {
        errors++;
        if (errorSamples.length < 3) errorSamples.push(err.message);
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };

  const start = performance.now() + 1;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        fire(start + sent * interval);
        sent++;
      }
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    setTimeout(tick, 1);
  });
  const lastSent = performance.now();
  await Promise.all([...inflight]);
  await pool.close();
  const elapsedS = (lastSent - start) / 1000 + interval / 1000;
  return {
    rate,
    durationS,
    sent,
    ok,
    errors,
    achievedRps: sent / elapsedS,
    latenciesMs: latencies,
    scheduledLatenciesMs: scheduled,
    sendLagP99Ms: percentile(lags, 0.99),
    errorSamples,
  };
}

/** Counts SSE events (each ends with a blank line, "\n\n") across chunk boundaries. */
class EventCounter {
  events = 0;
  /** The last byte fed was a newline that did not close an event. */
  private pending = false;

  feed(buf: Buffer): number {
    let found = 0;
    let pending = this.pending;
    let last = -2;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) {
      const adjacent = pending && (i === 0 || last === i - 1);
      if (adjacent) {
        found++;
        pending = false;
      } else {
        pending = true;
      }
      last = i;
    }
    this.pending = pending && last === buf.length - 1;
    this.events += found;
    return found;
  }
}

const DATA = Buffer.from('data:');
const DONE = Buffer.from('data: [DONE]');

export interface StreamTtftResult {
  requests: number;
  concurrency: number;
  ok: number;
  errors: number;
  ttftMs: number[];
  totalMs: number[];
  /** Data events per stream (role chunk, content chunks, final chunk; [DONE] not counted). */
  chunksPerStream: number[];
  errorSamples: string[];
}

/** `n` streaming requests, `concurrency` at a time; time to the first `data:` chunk and to the end. */
export async function streamTtft(target: Target, body: string, n: number, concurrency: number): Promise<StreamTtftResult> {
  const pool = new Pool(target.origin, { connections: concurrency, keepAliveTimeout: 30_000 });
  const out: StreamTtftResult = { requests: n, concurrency, ok: 0, errors: 0, ttftMs: [], totalMs: [], chunksPerStream: [], errorSamples: [] };
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: target.path, method: 'POST', headers: target.headers, body });
        if (res.statusCode < 200 || res.statusCode >= 300) {
          out.errors++;
          const text = await res.body.text().catch(() => '');
          if (out.errorSamples.length < 3) out.errorSamples.push(`HTTP ${res.statusCode} ${text.slice(0, 200)}`);
          continue;
        }
        let ttft: number | undefined;
        const counter = new EventCounter();
        let done = false;
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          if (ttft === undefined && chunk.indexOf(DATA) !== -1) ttft = performance.now() - t0;
          counter.feed(chunk);
          if (chunk.indexOf(DONE) !== -1) done = true;
        }
        const total = performance.now() - t0;
        if (ttft !== undefined && done) {
          out.ok++;
          out.ttftMs.push(ttft);
          out.totalMs.push(total);
          out.chunksPerStream.push(counter.events - 1);
        } else {
          out.errors++;
          if (out.errorSamples.length < 3) out.errorSamples.push('stream ended without data: [DONE]');
        }
      } catch (err) {
        out.errors++;
        if (out.errorSamples.length < 3) out.errorSamples.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await pool.close();
  return out;
}

export interface ChunkRateResult {
  concurrency: number;
  durationS: number;
  /** Data chunks delivered inside the window ([DONE] not counted). */
  chunks: number;
  streamsCompleted: number;
  errors: number;
  chunksPerSecond: number;
  streamsPerSecond: number;
  errorSamples: string[];
}

/** `concurrency` clients each streaming back to back for `durationS`; counts chunks delivered in the window. */
export async function streamChunkRate(target: Target, body: string, concurrency: number, durationS: number): Promise<ChunkRateResult> {
  const pool = new Pool(target.origin, { connections: concurrency, keepAliveTimeout: 30_000 });
  const start = performance.now();
  const deadline = start + durationS * 1000;
  let events = 0;
  let streamsCompleted = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const worker = async () => {
    while (performance.now() < deadline) {
      try {
        const res = await pool.request({ path: target.path, method: 'POST', headers: target.headers, body });
        if (res.statusCode < 200 || res.statusCode >= 300) {
          errors++;
          const text = await res.body.text().catch(() => '');
          if (errorSamples.length < 3) errorSamples.push(`HTTP ${res.statusCode} ${text.slice(0, 200)}`);
          continue;
        }
        const counter = new EventCounter();
        let doneInWindow = false;
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          const found = counter.feed(chunk);
          if (performance.now() <= deadline) {
            events += found;
            if (chunk.indexOf(DONE) !== -1) doneInWindow = true;
          }
        }
        if (doneInWindow) {
          streamsCompleted++;
          events--; // the [DONE] event is framing, not a chunk
        }
      } catch (err) {
        errors++;
        if (errorSamples.length < 3) errorSamples.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await pool.close();
  const windowS = durationS;
  return {
    concurrency,
    durationS: windowS,
    chunks: events,
    streamsCompleted,
    errors,
    chunksPerSecond: events / windowS,
    streamsPerSecond: streamsCompleted / windowS,
    errorSamples,
  };
}

/** Exact percentile (nearest rank) of a sample; NaN when empty. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}
