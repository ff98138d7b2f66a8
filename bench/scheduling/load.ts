/**
 * Open-loop load: requests start at Poisson arrival times whatever happens to earlier ones (a closed
 * loop would slow down with the server and hide queueing). Each request is a stream; the client
 * records the time to the first chunk, every gap between output chunks, the usage (prompt and cached
 * tokens) and the outcome.
 */
import { Agent, request } from 'undici';
import { Rng, type WorkloadGenerator } from './workload.js';

export interface Sample {
  tenant: string;
  /** ms since the phase started. */
  startMs: number;
  status: number;
  /** An error code (HTTP error body or mid-stream error event), if any. */
  error?: string;
  ttftMs?: number;
  e2eMs: number;
  /** Gaps between consecutive output chunks, ms. */
  gaps: number[];
  outputTokens: number;
  promptTokens: number;
  cachedTokens: number;
}

export interface LoadOptions {
  url: string;
  key: string;
  tenant: string;
  /** Requests per second (Poisson). */
  rate: number;
  durationS: number;
  workload: WorkloadGenerator;
  seed: number;
  /** Phase start (performance.now()) shared by concurrent tenants. */
  t0: number;
}

const agent = new Agent({ connections: 2048, pipelining: 0, keepAliveTimeout: 30_000, headersTimeout: 600_000, bodyTimeout: 600_000 });

/** Runs the open loop for `durationS` and resolves when every request it started has finished. */
export async function openLoop(opts: LoadOptions): Promise<Sample[]> {
  const rng = new Rng(opts.seed);
  const samples: Sample[] = [];
  const running: Array<Promise<void>> = [];
  const end = opts.t0 + opts.durationS * 1000;
  let next = opts.t0 + rng.exp(opts.rate) * 1000;
  while (next < end) {
    const wait = next - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const { conversation, body } = opts.workload.next();
    running.push(
      send(opts, body).then((sample) => {
        samples.push(sample);
        opts.workload.finished(conversation, sample.status === 200 && !sample.error ? sample.answer : undefined);
      }),
    );
    next += rng.exp(opts.rate) * 1000;
  }
  await Promise.all(running);
  return samples;
}

async function send(opts: LoadOptions, body: Record<string, unknown>): Promise<Sample & { answer: string }> {
  const started = performance.now();
  const sample: Sample & { answer: string } = {
    tenant: opts.tenant,
    startMs: started - opts.t0,
    status: 0,
    e2eMs: 0,
    gaps: [],
    outputTokens: 0,
    promptTokens: 0,
    cachedTokens: 0,
    answer: '',
  };
  try {
    const res = await request(`${opts.url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${opts.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    sample.status = res.statusCode;
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      try {
        sample.error = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? `http_${res.statusCode}`;
      } catch {
        sample.error = `http_${res.statusCode}`;
      }
      sample.e2eMs = performance.now() - started;
      return sample;
    }
    let buffered = '';
    let last = 0;
    const parts: string[] = [];
    for await (const chunk of res.body) {
      const now = performance.now();
      buffered += chunk.toString();
      let sep: number;
      while ((sep = buffered.indexOf('\n\n')) !== -1) {
        const event = buffered.slice(0, sep);
        buffered = buffered.slice(sep + 2);
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') continue;
        const json = JSON.parse(data) as {
          error?: { code?: string };
          choices?: Array<{ delta?: { content?: string } }>;
          usage?: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } } | null;
        };
        if (json.error) {
          sample.error = json.error.code ?? 'stream_error';
          continue;
        }
        if (json.usage) {
          sample.promptTokens = json.usage.prompt_tokens ?? 0;
          sample.outputTokens = json.usage.completion_tokens ?? 0;
          sample.cachedTokens = json.usage.prompt_tokens_details?.cached_tokens ?? 0;
        }
        const content = json.choices?.[0]?.delta?.content;
        if (content === undefined) continue;
        if (sample.ttftMs === undefined) sample.ttftMs = now - started;
        else sample.gaps.push(now - last);
        last = now;
        parts.push(content);
      }
    }
    sample.answer = parts.join('');
  } catch (err) {
    sample.error = (err as { code?: string }).code ?? 'client_error';
  }
  sample.e2eMs = performance.now() - started;
  return sample;
}

export async function closeAgent(): Promise<void> {
  await agent.close();
}
