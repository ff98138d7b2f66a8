/**
 * What the fault suites share: reading an organization's quota state straight from Redis, the cost
 * the gateway settles for what a client saw, and draining a stream into what the client saw.
 *
 * How "settled exactly once" is checked. There is no per-request usage record to compare with (the
 * usage ledger is not built), so each test uses a fresh organization and derives the expected totals
 * from what its clients saw: a complete response's `usage` (JSON, or the stream's usage chunk), and for
 * a stream cut short, the gateway's documented estimate — our prompt count plus one token per chunk
 * relayed (RequestFinalizer: `outputChunks`; the role chunk counts). Costs are the catalogue's prices in
 * micro-units (quota.service.ts). The organization's day spend counter in Redis must then equal the
 * sum exactly (a lost settle leaves the reservation — prompt plus max_tokens — in it, a double settle
 * subtracts the difference twice); its token window must hold exactly the tokens used; no concurrency
 * lease may be left.
 */
import OpenAI from 'openai';
import { Redis } from 'ioredis';

/** Prices of the fault suites' models, per million tokens: cost in micro-units = prompt + 2 × completion. */
export const PRICES = { input: 1, output: 2 };

export function cost(promptTokens: number, completionTokens: number): number {
  return promptTokens * PRICES.input + completionTokens * PRICES.output;
}

export function utcDay(now = Date.now()): string {
  const d = new Date(now);
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

export interface QuotaState {
  /** Day spend, micro-units. */
  spend: number;
  /** Tokens in the org's sliding TPM window. */
  tokens: number;
  /** Concurrency leases not yet expired. */
  leases: number;
}

export async function quotaState(redis: Redis, orgId: string): Promise<QuotaState> {
  const p = `q:{o:${orgId}}:org`;
  const [spend, tokens, leases] = await Promise.all([redis.get(`${p}:sd:${utcDay()}`), redis.get(`${p}:tks`), redis.zcount(`${p}:cc`, Date.now(), '+inf')]);
  return { spend: Number(spend ?? 0), tokens: Number(tokens ?? 0), leases };
}

/** What a client saw of one request. */
export interface Seen {
  ok: boolean;
  /** The runtime's usage, when the response was complete. */
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Chunks with choices received before the stream ended (streams only). */
  chunks: number;
  error?: unknown;
}

/** Reads a stream to its end; a terminal error (event or connection) is recorded, never thrown. */
export async function drain(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>, onChunk?: (n: number) => void): Promise<Seen> {
  const seen: Seen = { ok: false, chunks: 0 };
  try {
    for await (const chunk of stream) {
      if (chunk.usage) seen.usage = chunk.usage;
      if (chunk.choices.length > 0) {
        seen.chunks++;
        onChunk?.(seen.chunks);
      }
    }
    seen.ok = seen.usage !== undefined;
  } catch (err) {
    seen.error = err;
  }
  return seen;
}

/**
 * The micro-units the gateway settles for what the client saw: the runtime's usage when complete,
 * else (a stream cut short) `promptTokens` plus one completion token per chunk relayed.
 */
export function settledCost(seen: Seen, promptTokens: number): { cost: number; tokens: number } {
  if (seen.usage) return { cost: cost(seen.usage.prompt_tokens, seen.usage.completion_tokens), tokens: seen.usage.prompt_tokens + seen.usage.completion_tokens };
  return { cost: cost(promptTokens, seen.chunks), tokens: promptTokens + seen.chunks };
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The value of a pod's Prometheus sample (vLLM names), NaN when absent. */
export async function podMetric(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}
