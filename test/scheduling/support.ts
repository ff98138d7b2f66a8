/**
 * Helpers for the routing and scheduling suites: simulator pods started by the test (so a test can kill
 * them), a gateway over a static catalogue of those pods, raw HTTP calls that keep status, headers and
 * every SSE event, and readers for the gateway's and the pods' Prometheus metrics.
 */
import net from 'node:net';
import { spawnSimPod } from '../../runtimes/sim/spawn.js';
import { parseCatalogue, type CatalogueConfig } from '../../src/config/index.js';
import { bootGateway, type TestGateway } from '../support/harness.js';

export type SimPod = Awaited<ReturnType<typeof spawnSimPod>>;

/** No limits from the quota stage or the per-IP throttle: these suites measure the scheduler. */
export const UNLIMITED_TIERS = {
  free: { rpm: null, tpm: null, concurrency: null, dailySpend: null, monthlySpend: null },
  standard: { rpm: null, tpm: null, concurrency: null, dailySpend: null, monthlySpend: null },
  premium: { rpm: null, tpm: null, concurrency: null, dailySpend: null, monthlySpend: null },
};
export const NO_THROTTLE = { SWITCHYARD_IP_REQUESTS_PER_MINUTE: '0', SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE: '0', SWITCHYARD_AUTH_FAILURES_PER_MINUTE: '0' };

/** Llama-3.2-1B on H100: a few ms per step. Llama-3.1-70B TP4: ~17 ms per step, for requests that must stay in flight. */
export const FAST = 'llama-3.2-1b-h100';
export const SLOW = 'llama-3.1-70b-tp4-h100';
export const SERVED = 'meta-llama/Llama-3.2-1B-Instruct';

/** Pods this test process started: killed when it exits, whatever happened to its `after` hooks. */
const started = new Set<SimPod>();
process.once('exit', () => {
  for (const pod of started) if (pod.child.exitCode === null && pod.child.signalCode === null) pod.child.kill('SIGKILL');
});

export async function startPods(n: number, profile = FAST, served = SERVED, args: string[] = []): Promise<SimPod[]> {
  const pods = await Promise.all(Array.from({ length: n }, () => spawnSimPod({ model: served, profile, args: ['--max-model-len', '8192', ...args] })));
  for (const pod of pods) started.add(pod);
  return pods;
}

export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface PoolSpec {
  name: string;
  endpoints: string[];
  served?: string;
}
export interface ModelSpec {
  name: string;
  pool: string;
  fallbacks?: string[];
  aliases?: string[];
}

export function catalogue(pools: PoolSpec[], models: ModelSpec[]): CatalogueConfig {
  return parseCatalogue(
    {
      pools: pools.map((p) => ({ name: p.name, runtime: 'sim', provider: 'static', servedModel: p.served ?? SERVED, endpoints: p.endpoints })),
      models: models.map((m) => ({ name: m.name, pool: m.pool, aliases: m.aliases ?? [], fallbacks: m.fallbacks ?? [], contextWindow: 8192, tokenizer: 'llama3' })),
      tiers: UNLIMITED_TIERS,
    },
    'scheduling test catalogue',
  );
}

export function boot(cat: CatalogueConfig, env: Record<string, string> = {}): Promise<TestGateway> {
  return bootGateway(cat, { ...NO_THROTTLE, SWITCHYARD_FLEET_SCRAPE_INTERVAL_MS: '200', ...env });
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** A non-streamed chat completion over plain fetch. */
export async function chat(gw: TestGateway, key: string, body: Record<string, unknown>, opts: { simFault?: string; signal?: AbortSignal } = {}): Promise<Reply> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(opts.simFault ? { 'x-sim-fault': opts.simFault } : {}) },
    body: JSON.stringify(body),
    signal: opts.signal,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export interface StreamReply {
  status: number;
  headers: Headers;
  /** Parsed `data:` payloads, in order ([DONE] as the string). */
  events: any[];
  /** The error body when the status is not 200. */
  error?: any;
  done: boolean;
  /** An SSE error event arrived (after the first byte). */
  midStreamError?: any;
}

/** A streamed chat completion, every event kept. */
export async function chatStream(gw: TestGateway, key: string, body: Record<string, unknown>, opts: { simFault?: string; signal?: AbortSignal } = {}): Promise<StreamReply> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(opts.simFault ? { 'x-sim-fault': opts.simFault } : {}) },
    body: JSON.stringify({ ...body, stream: true }),
    signal: opts.signal,
  });
  if (res.status !== 200) return { status: res.status, headers: res.headers, events: [], error: await res.json().catch(() => undefined), done: false };
  const text = await res.text();
  const events = text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6))
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
  const midStreamError = events.find((e) => typeof e === 'object' && e.error)?.error;
  return { status: 200, headers: res.headers, events, done: events.at(-1) === '[DONE]', midStreamError };
}

/** Value of a Prometheus sample `name{labels}` whose labels include all of `match` (sum over matches). */
export function metric(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  return found ? sum : NaN;
}

export async function gatewayMetrics(gw: TestGateway): Promise<string> {
  return (await fetch(`${gw.url}/metrics`)).text();
}

export async function podMetrics(pod: SimPod): Promise<string> {
  return (await fetch(`${pod.baseUrl}/metrics`)).text();
}

/** Requests a pod finished (any reason). */
export async function podServed(pod: SimPod): Promise<number> {
  return metric(await podMetrics(pod), 'vllm:request_success_total');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns true (or throws after `timeoutMs`). */
export async function eventually(probe: () => Promise<boolean> | boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
