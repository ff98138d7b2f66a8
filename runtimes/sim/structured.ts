/**
 * Structured outputs: tool calls in the model family's native format (what vLLM's tool parsers
 * read back: hermes `<tool_call>` blocks for Qwen3, llama3_json objects for Llama 3) and JSON
 * documents for `response_format`. Arguments are produced by the schema sampler so they validate
 * against the tool's `parameters`.
 */
import type { TokenizerId } from '../../src/config/index.js';
import type { ChatTool } from '../../src/prompt/tokenizer.js';
import type { OutputLimits, OutputPlan, OutputVocabulary, TokenSeq } from './output.js';
import { createRng, pick, randomHex, type Rng } from './rng.js';
import { pyJson, sampleFromSchema, type JsonSchema } from './schema-fill.js';

export interface ToolCallInfo {
  id: string;
  name: string;
  arguments: string;
  /** Tokens [0, prefixTokens) carry the wrapper and name; the next argTokens carry the arguments. */
  prefixTokens: number;
  argTokens: number;
}

export interface ToolCallOutput {
  plan: OutputPlan;
  call: ToolCallInfo;
  /** False when max_tokens or a stop string cut the call short: vLLM then returns it as text. */
  complete: boolean;
}

export function buildToolCall(vocab: OutputVocabulary, family: TokenizerId, tool: ChatTool, seed: number, limits: OutputLimits): ToolCallOutput {
  const rng = createRng(seed);
  const name = tool.function.name;
  const schema = (tool.function.parameters ?? { type: 'object', properties: {} }) as JsonSchema;
  const args = pyJson(sampleFromSchema(schema, rng));
  const [prefix, suffix] =
    family === 'qwen3'
      ? [`<tool_call>\n{"name": ${JSON.stringify(name)}, "arguments": `, '}\n</tool_call>']
      : [`{"name": ${JSON.stringify(name)}, "parameters": `, '}'];
  const p = vocab.encode(prefix);
  const a = vocab.encode(args);
  const s = vocab.encode(suffix);
  const body: TokenSeq = { ids: [...p.ids, ...a.ids, ...s.ids], pieces: [...p.pieces, ...a.pieces, ...s.pieces] };
  const plan = vocab.finish(body, limits);
  return {
    plan,
    call: { id: `chatcmpl-tool-${randomHex(32)}`, name, arguments: args, prefixTokens: p.ids.length, argTokens: a.ids.length },
    complete: !plan.truncated,
  };
}

/** A JSON document valid for `schema` (json_schema), or a small object (json_object). */
export function buildJsonOutput(vocab: OutputVocabulary, schema: JsonSchema | undefined, seed: number, limits: OutputLimits): OutputPlan {
  const rng = createRng(seed);
  const value = schema === undefined ? defaultObject(rng) : sampleFromSchema(schema, rng);
  return vocab.finish(vocab.encode(pyJson(value)), limits);
}

function defaultObject(rng: Rng): Record<string, unknown> {
  const keys = ['answer', 'summary', 'status', 'detail'];
  const out: Record<string, unknown> = {};
  const count = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < count; i++) out[keys[i]] = pick(rng, ['ready', 'steady signal', 'quiet river', 'bright morning']);
  return out;
}
