/**
 * Prompt-stage benchmark: tokenizer cost per 1k tokens (fresh text and repeated multi-turn prefixes),
 * inline vs worker-thread counting for large prompts (latency and how long the event loop is blocked),
 * and the cost of the whole validation + prompt stage for a typical request.
 *
 *   npm run bench:prompt      (writes its section of bench/RESULTS.md)
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { AppConfig } from '../../src/config/index.js';
import type { CatalogModel } from '../../src/catalog/catalog.types.js';
import { PromptService } from '../../src/prompt/prompt.service.js';
import { loadTokenizer } from '../../src/prompt/tokenizer.js';
import { assertSupported } from '../../src/validation/capabilities.js';
import { RequestValidator } from '../../src/validation/request-validator.js';
import { writeSection } from '../results.js';

const promptConfig: AppConfig['prompt'] = { offloadBytes: 16 * 1024, workers: 1, maxMessages: 2048, maxMessageChars: 4 << 20, maxTools: 128, maxSchemaDepth: 10, imageUrlHosts: [], maxImageUrlBytes: 4 << 20 };
const config = { prompt: promptConfig } as AppConfig;
const model: CatalogModel = {
  name: 'm', kind: 'chat', aliases: [], pool: 'p', runtime: 'sim', servedModel: 'm', contextWindow: 131072, maxOutputTokens: null,
  tokenizer: 'llama3', inputPricePerMTok: 0, outputPricePerMTok: 0, capabilities: {}, fallbacks: [], ownedBy: 'x', createdAt: new Date(),
};

const WORDS = 'the of and to in is that for on with as by at from gateway token cache batch model prefix stream request latency scheduler pod'.split(' ');
function text(words: number, seed = randomBytes(4).readUInt32LE()): string {
  let x = seed || 1;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(WORDS[x % WORDS.length]!);
  }
  return out.join(' ');
}

function time(fn: () => void, runs: number): number {
  fn();
  const start = performance.now();
  for (let i = 0; i < runs; i++) fn();
  return (performance.now() - start) / runs;
}

async function main(): Promise<void> {
  const tok = loadTokenizer('llama3');
  const rows: string[] = [];
  process.stdout.write('tokenizer cost…\n');
  for (const words of [100, 1_000, 10_000, 50_000]) {
    const samples = Array.from({ length: 5 }, () => text(words));
    const tokens = tok.encode(samples[0]!).length;
    let i = 0;
    const fresh = time(() => tok.encode(samples[i++ % samples.length]! + ` ${i}`), 5);
    const chatTurn = `<|start_header_id|>user<|end_header_id|>\n\n${samples[0]}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nnext ${Math.random()}`;
    const repeated = time(() => tok.encode(chatTurn), 5);
    rows.push(`| ${tokens.toLocaleString('en')} | ${fresh.toFixed(2)} | ${((fresh / tokens) * 1000).toFixed(2)} | ${repeated.toFixed(2)} |`);
  }

  process.stdout.write('inline vs worker…\n');
  const prompts = new PromptService(config);
  await prompts.warm([model]);
  const validator = new RequestValidator(config);
  const offloadRows: string[] = [];
  for (const words of [2_000, 20_000]) {
    const body = { model: 'm', messages: [{ role: 'user', content: text(words) }], max_tokens: 10 };
    const raw = Buffer.from(JSON.stringify(body));
    const parsed = validator.parse('chat.completions', raw);
    for (const mode of ['inline', 'worker'] as const) {
      const bytes = mode === 'inline' ? 0 : Number.MAX_SAFE_INTEGER;
      promptConfig.offloadBytes = mode === 'inline' ? Number.MAX_SAFE_INTEGER : 0;
      // The longest gap between 1 ms ticks is how long the event loop was blocked.
      let last = performance.now();
      let blocked = 0;
      const probe = setInterval(() => {
        const now = performance.now();
        blocked = Math.max(blocked, now - last);
        last = now;
      }, 1);
      await new Promise((r) => setTimeout(r, 5));
      const start = performance.now();
      // 8 concurrent requests with distinct prompts (no segment-cache hits).
      await Promise.all(Array.from({ length: 8 }, (_, k) => prompts.plan('chat.completions', { ...parsed, messages: [{ role: 'user', content: `${k} ${(body.messages[0]!.content as string)}` }] }, model, bytes)));
      const elapsed = performance.now() - start;
      await new Promise((r) => setTimeout(r, 5));
      clearInterval(probe);
      offloadRows.push(`| ${tok.encode(body.messages[0]!.content).length.toLocaleString('en')} | ${mode} | ${(elapsed / 8).toFixed(1)} | ${blocked.toFixed(1)} |`);
    }
  }
  promptConfig.offloadBytes = 16 * 1024;

  process.stdout.write('validation + prompt stage…\n');
  const typical = Buffer.from(
    JSON.stringify({
      model: 'm',
      messages: [
        { role: 'system', content: 'You are a helpful assistant that answers briefly.' },
        { role: 'user', content: 'What is the capital of France?' },
        { role: 'assistant', content: 'Paris.' },
        { role: 'user', content: 'And of Germany?' },
      ],
      temperature: 0.7,
      max_tokens: 64,
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } } }],
    }),
  );
  const parseUs = time(() => validator.parse('chat.completions', typical), 5_000) * 1000;
  const body = validator.parse('chat.completions', typical);
  const capUs = time(() => assertSupported('chat.completions', body, model), 5_000) * 1000;
  const runs = 2_000;
  const start = performance.now();
  for (let i = 0; i < runs; i++) await prompts.plan('chat.completions', body, model, typical.length);
  const planUs = ((performance.now() - start) / runs) * 1000;
  await prompts.onApplicationShutdown();

  writeSection(
    'prompt',
    `## Prompt stage (tokenizer, validation)

Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), Node ${process.version}.
Reproduce: \`npm run bench:prompt\` (bench/prompt/run.ts).

Tokenizer (Llama 3 tokenizer.json, pure-JS BPE), one thread, ms per prompt:

| tokens | fresh text, ms | µs per token | same text as a chat turn again (segment cache), ms |
|---|---|---|---|
${rows.join('\n')}

Large prompts, 8 concurrent distinct requests through \`PromptService.plan\`; "event loop blocked" is the
longest single stall of the gateway's event loop meanwhile (what every in-flight stream would feel):

| prompt tokens | mode | ms per request (wall, 8 in parallel) | event loop blocked, max ms |
|---|---|---|---|
${offloadRows.join('\n')}

Typical request (4 messages, 1 tool, ${typical.length} bytes), per request:

| step | µs |
|---|---|
| JSON parse + OpenAI schema validation + cross-field rules | ${parseUs.toFixed(1)} |
| capability check | ${capUs.toFixed(2)} |
| chat template + token count + context window | ${planUs.toFixed(1)} |

Reading: tokenizing costs a few µs per token, so small prompts stay inline (a worker round trip costs more
than the work); above ${promptConfig.offloadBytes / 1024} KiB of body (≈ 4k tokens, ~10 ms of work) counting moves to a worker thread, which
keeps the event loop free at the price of some latency for that request. Multi-turn chats re-encode only
their new turn thanks to the per-segment cache.
`,
  );
  process.stdout.write('wrote bench/RESULTS.md (prompt section)\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
