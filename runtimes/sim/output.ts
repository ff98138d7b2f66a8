/**
 * Deterministic model output made of real tokenizer tokens.
 *
 * The simulator decides a request's whole output before it enters the engine: prose from a small
 * word list (or a JSON document / tool call), encoded with the model's tokenizer. Each token keeps
 * its visible text piece so streaming can emit exactly one piece per token and
 * usage.completion_tokens equals the number of tokens streamed. A natural end is the model's
 * end-of-turn token (empty text, as vLLM skips special tokens); `max_tokens` ends it with 'length';
 * stop strings truncate the text before the match like vLLM's stop checker.
 */
import type { ModelTokenizer } from '../../src/prompt/tokenizer.js';
import { createRng, mixSeed, pick, randInt, type Rng } from './rng.js';

export interface TokenSeq {
  ids: number[];
  /** Visible text of each token; concatenated they give the decoded text. */
  pieces: string[];
}

export type FinishReason = 'stop' | 'length';

export interface OutputPlan extends TokenSeq {
  text: string;
  finishReason: FinishReason;
  /** vLLM's stop_reason: the stop string that matched, or null for EOS / length. */
  stopReason: string | null;
  /** True when the output was cut by a stop string or max_tokens before its natural end. */
  truncated: boolean;
}

export interface OutputLimits {
  /** Output tokens allowed (max_tokens / max_completion_tokens, or what is left of the context). */
  maxTokens: number;
  minTokens?: number;
  ignoreEos?: boolean;
  stop?: readonly string[];
}

const WORDS = (
  'the a of and to in is was that for on with as by at from this it be are an or which its their ' +
  'model system request token cache batch engine latency throughput memory queue gateway signal river ' +
  'mountain forest harbor garden window lantern meadow orchard valley bridge market village ocean ' +
  'morning evening quiet bright steady gentle rapid careful simple modern ancient golden silver ' +
  'measures carries builds follows returns reaches shapes moves holds keeps finds turns opens ' +
  'every many several other small large early later often always never together between across'
).split(' ');

/** Per-tokenizer cache of encoded text units plus helpers to build outputs from them. */
export class OutputVocabulary {
  readonly stopTokenId: number;
  /** Token ids offered as top_logprobs alternatives. */
  readonly alternativeIds: number[];
  private readonly units = new Map<string, TokenSeq>();

  constructor(readonly tokenizer: ModelTokenizer) {
    // Chat models end a turn with their end-of-turn token (Llama-3 <|eot_id|>, Qwen3 <|im_end|>).
    this.stopTokenId = tokenizer.tokenToId('<|eot_id|>') ?? tokenizer.tokenToId('<|im_end|>') ?? tokenizer.eosTokenId;
    const alternatives = new Set<number>();
    for (const w of WORDS) alternatives.add(this.unit(` ${w}`).ids[0]);
    this.alternativeIds = [...alternatives];
  }

  /** Encoding of a short text unit, cached. */
  unit(text: string): TokenSeq {
    let seq = this.units.get(text);
    if (!seq) {
      seq = this.encode(text);
      this.units.set(text, seq);
    }
    return seq;
  }

  /** Encodes text into tokens with per-token visible pieces. */
  encode(text: string): TokenSeq {
    const ids = this.tokenizer.encode(text);
    const pieces = ids.map((id) => this.tokenizer.decode([id]));
    if (pieces.join('') === text) return { ids, pieces };
    // Tokens that split a multi-byte character: emit text only once a character is complete, the way
    // vLLM's incremental detokenizer holds back partial UTF-8.
    let emitted = 0;
    for (let i = 0; i < ids.length; i++) {
      const prefix = this.tokenizer.decode(ids.slice(0, i + 1));
      if (prefix.endsWith('\uFFFD') && i < ids.length - 1) {
        pieces[i] = '';
        continue;
      }
      pieces[i] = prefix.slice(emitted);
      emitted = prefix.length;
    }
    return { ids, pieces };
  }

  /** Exactly `count` tokens of sentences drawn from the word list. */
  prose(rng: Rng, count: number): TokenSeq {
    const ids: number[] = [];
    const pieces: string[] = [];
    let sentenceStart = true;
    let first = true;
    let words = 0;
    let sentenceLength = randInt(rng, 6, 16);
    const append = (unit: TokenSeq) => {
      for (let i = 0; i < unit.ids.length && ids.length < count; i++) {
        ids.push(unit.ids[i]);
        pieces.push(unit.pieces[i]);
      }
    };
    while (ids.length < count) {
      if (words === sentenceLength) {
        append(this.unit('.'));
        sentenceStart = true;
        words = 0;
        sentenceLength = randInt(rng, 6, 16);
        if (rng() < 0.15) {
          append(this.unit('\n\n'));
          first = true;
        }
        continue;
      }
      const word = pick(rng, WORDS);
      const text = sentenceStart ? capitalise(word) : word;
      append(this.unit(first ? text : ` ${text}`));
      first = false;
      sentenceStart = false;
      words++;
      if (words < sentenceLength - 1 && rng() < 0.06) append(this.unit(','));
    }
    return { ids, pieces };
  }

  /**
   * Finishes an output body: applies stop strings and the token limit, appends the end-of-turn token
   * when the body ended naturally and there is room, and reports the finish reason.
   */
  finish(body: TokenSeq, limits: OutputLimits): OutputPlan {
    let { ids, pieces } = body;
    let finishReason: FinishReason = 'stop';
    let stopReason: string | null = null;
    let truncated = false;
    if (ids.length > limits.maxTokens) {
      ids = ids.slice(0, limits.maxTokens);
      pieces = pieces.slice(0, limits.maxTokens);
      finishReason = 'length';
      truncated = true;
    }
    const stopped = applyStop(pieces, limits.stop ?? []);
    if (stopped) {
      ids = ids.slice(0, stopped.tokens);
      pieces = stopped.pieces;
      finishReason = 'stop';
      stopReason = stopped.stop;
      truncated = true;
    } else if (finishReason === 'stop') {
      if (limits.ignoreEos || ids.length >= limits.maxTokens) {
        finishReason = 'length';
        truncated = limits.ignoreEos !== true;
      } else {
        ids = [...ids, this.stopTokenId];
        pieces = [...pieces, ''];
      }
    }
    return { ids, pieces, text: pieces.join(''), finishReason, stopReason, truncated };
  }

  /** A prose answer: natural length 20–200 tokens (end-of-turn included) unless limited. */
  proseOutput(seed: number, limits: OutputLimits): OutputPlan {
    const rng = createRng(seed);
    let natural = randInt(rng, 20, 200);
    if (limits.minTokens && natural - 1 < limits.minTokens) natural = limits.minTokens + 1;
    const bodyTokens = limits.ignoreEos ? limits.maxTokens : Math.min(natural - 1, limits.maxTokens);
    return this.finish(this.prose(rng, bodyTokens), limits);
  }
}

/** Seed of one choice: temperature 0 is greedy, so only the prompt (and server seed) matter. */
export function choiceSeed(opts: { serverSeed: number; promptHash: number; seed?: number | null; temperature?: number | null; index: number }): number {
  if (opts.temperature === 0) return mixSeed(opts.serverSeed, opts.promptHash);
  const base = opts.seed ?? opts.promptHash;
  return mixSeed(opts.serverSeed, base, opts.index + 1);
}

/**
 * Finds the stop string whose first occurrence ends earliest (vLLM checks after every token) and
 * cuts the output there: the tokens up to the one that completed the match are kept (they were
 * generated and are billed) and the visible text ends just before the match.
 */
export function applyStop(pieces: readonly string[], stops: readonly string[]): { tokens: number; pieces: string[]; stop: string } | null {
  if (stops.length === 0) return null;
  const text = pieces.join('');
  let best: { start: number; end: number; stop: string } | null = null;
  for (const stop of stops) {
    if (!stop) continue;
    const start = text.indexOf(stop);
    if (start < 0) continue;
    const end = start + stop.length;
    if (!best || end < best.end) best = { start, end, stop };
  }
  if (!best) return null;
  const out: string[] = [];
  let offset = 0;
  for (const piece of pieces) {
    const pieceStart = offset;
    offset += piece.length;
    out.push(pieceStart >= best.start ? '' : piece.slice(0, best.start - pieceStart));
    if (offset >= best.end) break;
  }
  return { tokens: out.length, pieces: out, stop: best.stop };
}

export interface TokenLogprob {
  logprob: number;
  top: Array<{ id: number; logprob: number }>;
}

/**
 * Deterministic log-probabilities for output token `index`: the sampled token is the most likely
 * one, followed by `k − 1` alternatives from the vocabulary with lower log-probabilities.
 */
export function tokenLogprob(vocab: OutputVocabulary, seed: number, index: number, sampledId: number, k: number): TokenLogprob {
  const rng = createRng(mixSeed(seed, 0x10b, index));
  const r = rng();
  const logprob = -round4(r * r * r * 2.5);
  const top: Array<{ id: number; logprob: number }> = [];
  if (k > 0) top.push({ id: sampledId, logprob });
  let lp = logprob;
  const alternatives = vocab.alternativeIds;
  let cursor = Math.floor(rng() * alternatives.length);
  while (top.length < k) {
    const id = alternatives[cursor++ % alternatives.length];
    if (top.some((t) => t.id === id)) {
      if (cursor > alternatives.length * 2) break;
      continue;
    }
    lp = round4(lp - 0.25 - 2 * rng());
    top.push({ id, logprob: lp });
  }
  return { logprob, top };
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
