/**
 * The prompt's prefix as a chain of block hashes, for prefix-affinity routing.
 *
 * Runtimes cache KV blocks under a chained hash of their token ids (vLLM: 16-token blocks), so two
 * requests share cached work exactly as far as their prompts share a prefix. We do not have token ids
 * here (the prompt stage only counts them, and tokenizing again costs ~2–3 µs per token), so the proxy
 * is the prompt text itself, serialised the way chat templates lay it out (tools, then each message's
 * role and content in order) and hashed in blocks of `blockChars` characters. Hash i covers characters
 * [0, (i+1)·blockChars): equal hashes mean an equal text prefix (up to hash collisions, which only cost a
 * mis-routed request), and an equal text prefix renders to an equal token prefix under any template.
 * Only whole blocks are hashed and at most `maxBlocks` of them, so the cost is bounded (~1 ns per
 * character; bench/scheduling/prefix-hash-cost measures it).
 *
 * The hash is two 32-bit FNV-1a style lanes with different primes, folded into one 53-bit number (a
 * safe integer, usable as a Map key without allocating strings).
 *
 * A request's prefix-cache salt (the `cache_salt` sent to the runtime: one per organization unless
 * the operator shares caches) seeds the chain, as it seeds the runtime's first block hash: the same
 * prompt from two organizations has disjoint hashes here exactly as it has disjoint KV blocks there,
 * so affinity never credits a pod with blocks this organization cannot hit.
 */
import type { InferenceEndpoint } from '../../runtimes/index.js';

export interface PrefixKey {
  /** Chained hashes of the whole blocks, first block first. */
  readonly hashes: readonly number[];
  /** Characters per block. */
  readonly blockChars: number;
  /** Length of the whole serialised prompt (not only the hashed part), to turn blocks into tokens. */
  readonly totalChars: number;
}

export const EMPTY_PREFIX: PrefixKey = { hashes: [], blockChars: 1, totalChars: 0 };

export interface PrefixSettings {
  blockChars: number;
  maxBlocks: number;
}

/** Streaming chained hasher: feed strings, collect the state at every block boundary. */
class BlockHasher {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  private inBlock = 0;
  totalChars = 0;
  readonly hashes: number[] = [];

  constructor(
    private readonly blockChars: number,
    private readonly maxBlocks: number,
    seed?: string,
  ) {
    // The seed moves the chain's starting state only: block boundaries and lengths stay the prompt's.
    if (seed) {
      for (let i = 0; i < seed.length; i++) {
        const c = seed.charCodeAt(i);
        this.h1 = Math.imul(this.h1 ^ c, 0x01000193);
        this.h2 = Math.imul(this.h2 ^ c, 0x5bd1e995);
      }
    }
  }

  get full(): boolean {
    return this.hashes.length >= this.maxBlocks;
  }

  feed(text: string): void {
    this.totalChars += text.length;
    if (this.full) return;
    let { h1, h2, inBlock } = this;
    const { blockChars, hashes } = this;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      if (++inBlock === blockChars) {
        inBlock = 0;
        // 32 bits of h1 and 21 of h2: a 53-bit safe integer.
        hashes.push((h2 >>> 11) * 0x100000000 + (h1 >>> 0));
        if (hashes.length >= this.maxBlocks) break;
      }
    }
    this.h1 = h1;
    this.h2 = h2;
    this.inBlock = inBlock;
  }
}

interface MessageLike {
  role?: unknown;
  name?: unknown;
  content?: unknown;
  tool_calls?: unknown;
  tool_call_id?: unknown;
}

/** Text of a message's content: a string, or the text parts of a parts array (others by type). */
function contentParts(content: unknown, feed: (s: string) => void): void {
  if (typeof content === 'string') return feed(content);
  if (!Array.isArray(content)) return;
  for (const part of content as Array<{ type?: unknown; text?: unknown }>) {
    if (part && typeof part.text === 'string') feed(part.text);
    else if (part && typeof part.type === 'string') feed(`<${part.type}>`);
  }
}

/**
 * The prefix key of a request body (already validated). Chat: tools, then every message in order;
 * completions and embeddings: the (first) prompt, token-id prompts as their decimal ids. `salt`: the
 * request's prefix-cache salt, if any.
 */
export function prefixKey(endpoint: InferenceEndpoint, body: Record<string, unknown>, settings: PrefixSettings, salt?: string): PrefixKey {
  const hasher = new BlockHasher(settings.blockChars, settings.maxBlocks, salt);
  const feed = (s: string) => hasher.feed(s);
  if (endpoint === 'chat.completions') {
    // Templates render tools into the system turn, ahead of every message.
    if (Array.isArray(body.tools) && body.tools.length > 0) feed(JSON.stringify(body.tools));
    for (const message of (body.messages as MessageLike[] | undefined) ?? []) {
      feed(`\u0000${String(message.role)}\u0000`);
      if (typeof message.name === 'string') feed(message.name);
      contentParts(message.content, feed);
      if (message.tool_calls !== undefined) feed(JSON.stringify(message.tool_calls));
      if (typeof message.tool_call_id === 'string') feed(message.tool_call_id);
    }
  } else {
    let prompt = endpoint === 'completions' ? body.prompt : body.input;
    if (Array.isArray(prompt) && prompt.length > 0 && typeof prompt[0] !== 'number') prompt = prompt[0];
    if (typeof prompt === 'string') feed(prompt);
    else if (Array.isArray(prompt)) feed((prompt as number[]).join(','));
  }
  return { hashes: hasher.hashes, blockChars: settings.blockChars, totalChars: hasher.totalChars };
}

/** Prompt tokens covered by the first `blocks` blocks, by the prompt's characters-per-token ratio. */
export function blocksToTokens(key: PrefixKey, blocks: number, promptTokens: number): number {
  if (blocks <= 0 || key.totalChars === 0) return 0;
  return Math.min(promptTokens, Math.floor((promptTokens * blocks * key.blockChars) / key.totalChars));
}
