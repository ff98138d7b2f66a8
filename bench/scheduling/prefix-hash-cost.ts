/**
 * What prefix affinity costs on the hot path, per request, against the alternative of hashing token ids
 * (which needs the prompt tokenized: the prompt stage only counts tokens, so that would be a second
 * tokenization). Runs in-process in ~2 s as part of `npm run bench:scheduling`.
 */
import type { Pool as UndiciPool } from 'undici';
import { Pod } from '../../src/fleet/pod.js';
import { loadTokenizer } from '../../src/prompt/tokenizer.js';
import { PrefixAffinity } from '../../src/scheduler/placement/prefix-affinity.js';
import { prefixKey } from '../../src/scheduler/placement/prefix-hash.js';
import { Rng } from './workload.js';

export interface HashCostRow {
  promptTokens: number;
  chars: number;
  /** prefixKey(): serialise + hash (default settings: 256-char blocks, at most 256 blocks). */
  hashUs: number;
  /** PrefixAffinity match + record against a warm table of a 4-pod pool. */
  affinityUs: number;
  /** Tokenizing the same text (what hashing token ids would cost on top). */
  tokenizeUs: number;
}

function time(fn: () => void, minMs = 150): number {
  for (let i = 0; i < 5; i++) fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    n++;
  }
  return ((performance.now() - start) / n) * 1000;
}

export function measurePrefixCost(): HashCostRow[] {
  const rng = new Rng(3);
  const words = 'the yard signal wagon track freight engine station coupler brake switch rail crew shift schedule route cargo'.split(' ');
  const textOf = (n: number) => Array.from({ length: n }, () => words[rng.int(0, words.length - 1)]).join(' ');
  const tokenizer = loadTokenizer('llama3');
  const settings = { blockChars: 256, maxBlocks: 256 };
  const pods = Array.from({ length: 4 }, (_, i) => new Pod(`p${i}`, 'bench', `http://p${i}`, {} as UndiciPool));
  const rows: HashCostRow[] = [];
  let seq = 0;
  for (const words of [1_000, 8_000, 32_000]) {
    const system = textOf(Math.min(1_000, words / 2));
    const body = { messages: [{ role: 'system', content: system }, { role: 'user', content: textOf(words - Math.min(1_000, words / 2)) }] };
    const chars = system.length + (body.messages[1].content as string).length;
    const table = new PrefixAffinity(200_000);
    const key = prefixKey('chat.completions', body, settings);
    for (let i = 0; i < 2_000; i++) table.record([rng.int(0, 2 ** 40), rng.int(0, 2 ** 40), rng.int(0, 2 ** 40)], pods[i % 4]);
    table.record(key.hashes, pods[1]);
    const text = `${system}\n${body.messages[1].content}`;
    rows.push({
      promptTokens: tokenizer.encode(text).length,
      chars,
      hashUs: time(() => prefixKey('chat.completions', body, settings)),
      affinityUs: time(() => {
        table.match(key.hashes);
        table.record(key.hashes, pods[1]);
      }),
      // A fresh string each time: the tokenizer caches the ids of long segments it has seen.
      tokenizeUs: time(() => tokenizer.encode(`${seq++} ${text}`), 300),
    });
  }
  return rows;
}
