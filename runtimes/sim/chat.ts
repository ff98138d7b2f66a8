/**
 * POST /v1/chat/completions, shaped like vLLM's OpenAIServingChat: the chat template renders the
 * prompt, each choice is one engine request, and the answer is a chat.completion or an SSE stream of
 * chat.completion.chunk events (role chunk first, one chunk per output token, finish_reason on the
 * last one, optional usage chunk with `choices: []`, then `data: [DONE]`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChatMessage, ChatTool } from '../../src/prompt/tokenizer.js';
import type { SimContext } from './context.js';
import { contextLengthError, SimError } from './errors.js';
import { runGeneration, type GenerationJob, type Usage } from './generation.js';
import { choiceSeed, tokenLogprob, type OutputLimits, type OutputPlan } from './output.js';
import { bad, checkModel, MAX_LOGPROBS, optBool, optCacheSalt, optInt, optObject, parseSampling, type Body } from './params.js';
import { createRng, hashIds, pick } from './rng.js';
import type { JsonSchema } from './schema-fill.js';
import { corkForTick, requestFaults, sendError, sendJson, sseDone, sseError, sseEvent, startSse, uuidHex } from './http.js';
import { buildJsonOutput, buildToolCall, type ToolCallInfo } from './structured.js';

type ToolChoice = { mode: 'none' | 'auto' | 'required' } | { mode: 'named'; name: string };

interface Choice {
  plan: OutputPlan;
  seed: number;
  /** Set when this choice is a tool call. */
  tool?: ToolCallInfo;
  toolComplete?: boolean;
}

export function handleChat(ctx: SimContext, req: IncomingMessage, res: ServerResponse, body: Body, arrivalMs: number): void {
  checkModel(body, ctx.config.model);
  const messages = parseMessages(body.messages);
  const sampling = parseSampling(body);
  const logprobs = optBool(body, 'logprobs') ?? false;
  const topLogprobs = optInt(body, 'top_logprobs', 0, MAX_LOGPROBS) ?? 0;
  if (topLogprobs > 0 && !logprobs) throw bad('when using `top_logprobs`, `logprobs` must be set to true.', 'top_logprobs');
  const tools = parseTools(body.tools);
  const toolChoice = parseToolChoice(body.tool_choice, tools);
  const format = parseResponseFormat(body.response_format);
  const faults = requestFaults(ctx, req);
  const cacheSalt = optCacheSalt(body);

  let prompt: string;
  try {
    prompt = ctx.tokenizer.applyChatTemplate(messages, {
      tools: tools.length > 0 ? tools : undefined,
      addGenerationPrompt: optBool(body, 'add_generation_prompt') ?? true,
      templateKwargs: optObject(body, 'chat_template_kwargs'),
    });
  } catch (err) {
    // Not a schema failure: trtllm-serve reports it as its flat 400, not as a validation error.
    throw new SimError(400, `Error rendering the chat template: ${(err as Error).message}`);
  }
  const promptIds = ctx.tokenizer.encode(prompt, { addSpecialTokens: optBool(body, 'add_special_tokens') ?? false });
  const { maxModelLen } = ctx.config;
  if (promptIds.length >= maxModelLen || promptIds.length + (sampling.maxTokens ?? 0) > maxModelLen) {
    throw contextLengthError(maxModelLen, promptIds.length, sampling.maxTokens ?? 0, ctx.config.flavor);
  }
  const limits: OutputLimits = {
    maxTokens: sampling.maxTokens ?? maxModelLen - promptIds.length,
    minTokens: sampling.minTokens,
    ignoreEos: sampling.ignoreEos,
    stop: sampling.stop,
  };

  // Tool call when forced, or under 'auto' when the user spoke last (after a tool result: text).
  const lastRole = messages[messages.length - 1]?.role;
  const callTool =
    tools.length > 0 &&
    (toolChoice.mode === 'required' || toolChoice.mode === 'named' || (toolChoice.mode === 'auto' && lastRole === 'user'));
  const promptHash = hashIds(promptIds);
  const choices: Choice[] = [];
  for (let i = 0; i < sampling.n; i++) {
    const seed = choiceSeed({ serverSeed: ctx.config.seed, promptHash, seed: sampling.seed, temperature: sampling.temperature, index: i });
    if (callTool) {
      const tool = toolChoice.mode === 'named' ? (tools.find((t) => t.function.name === toolChoice.name) as ChatTool) : pick(createRng(seed ^ 0x7001), tools);
      const out = buildToolCall(ctx.vocab, ctx.config.tokenizer, tool, seed, limits);
      choices.push({ plan: out.plan, seed, tool: out.call, toolComplete: out.complete });
    } else if (format) {
      choices.push({ plan: buildJsonOutput(ctx.vocab, format.schema, seed, limits), seed });
    } else {
      choices.push({ plan: ctx.vocab.proseOutput(seed, limits), seed });
    }
  }
  const jobs: GenerationJob[] = choices.map((c, i) => ({ promptIds, cacheSalt, plan: c.plan, countsPrompt: i === 0 }));
  const meta: ResponseMeta = {
    id: `chatcmpl-${uuidHex()}`,
    created: Math.floor(Date.now() / 1000),
    model: ctx.config.model,
    logprobs: logprobs ? topLogprobs : -1,
    // vLLM reports 'tool_calls' for auto/required calls; a named tool_choice keeps the engine's 'stop'.
    toolFinish: toolChoice.mode !== 'named',
  };
  if (sampling.stream) streamChat(ctx, res, arrivalMs, jobs, choices, meta, sampling.includeUsage, faults);
  else completeChat(ctx, res, arrivalMs, jobs, choices, meta, faults);
}

interface ResponseMeta {
  id: string;
  created: number;
  model: string;
  /** Top-k of logprobs, or -1 when logprobs were not requested. */
  logprobs: number;
  toolFinish: boolean;
}

function finishReason(choice: Choice, meta: ResponseMeta): string {
  if (choice.tool && choice.toolComplete && meta.toolFinish) return 'tool_calls';
  return choice.plan.finishReason;
}

function completeChat(
  ctx: SimContext,
  res: ServerResponse,
  arrivalMs: number,
  jobs: GenerationJob[],
  choices: Choice[],
  meta: ResponseMeta,
  faults: ReturnType<typeof requestFaults>,
): void {
  runGeneration(ctx, res, arrivalMs, jobs, faults, {
    onToken() {},
    onError: (err) => sendError(ctx, res, err),
    onDone: (usage) => {
      const body = {
        id: meta.id,
        object: 'chat.completion',
        created: meta.created,
        model: meta.model,
        choices: choices.map((c, index) => {
          const toolCall = c.tool && c.toolComplete;
          return {
            index,
            message: {
              role: 'assistant',
              content: toolCall ? null : c.plan.text,
              refusal: null,
              tool_calls: toolCall
                ? [{ id: c.tool!.id, type: 'function', function: { name: c.tool!.name, arguments: c.tool!.arguments } }]
                : [],
            },
            logprobs: meta.logprobs >= 0 ? { content: c.plan.ids.map((_, t) => chatLogprob(ctx, c, t, meta.logprobs)), refusal: null } : null,
            finish_reason: finishReason(c, meta),
            stop_reason: c.plan.stopReason,
          };
        }),
        usage,
      };
      sendJson(res, 200, JSON.stringify(body));
    },
  });
}

function streamChat(
  ctx: SimContext,
  res: ServerResponse,
  arrivalMs: number,
  jobs: GenerationJob[],
  choices: Choice[],
  meta: ResponseMeta,
  includeUsage: boolean,
  faults: ReturnType<typeof requestFaults>,
): void {
  startSse(res);
  const head = `{"id":"${meta.id}","object":"chat.completion.chunk","created":${meta.created},"model":${JSON.stringify(meta.model)},"choices":[`;
  let rolesSent = false;
  runGeneration(ctx, res, arrivalMs, jobs, faults, {
    onToken(job, t) {
      corkForTick(res);
      if (!rolesSent) {
        rolesSent = true;
        for (let i = 0; i < choices.length; i++) {
          sseEvent(res, `${head}{"index":${i},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`);
        }
      }
      const c = choices[job];
      const last = t === c.plan.ids.length - 1;
      const delta = c.tool ? toolDelta(c.tool, c.plan, t) : `{"content":${JSON.stringify(c.plan.pieces[t])}}`;
      if (delta === null && !last) return;
      const lp = meta.logprobs >= 0 && !c.tool ? `{"content":[${JSON.stringify(chatLogprob(ctx, c, t, meta.logprobs))}],"refusal":null}` : 'null';
      const finish = last ? `"finish_reason":"${finishReason(c, meta)}","stop_reason":${JSON.stringify(c.plan.stopReason)}` : '"finish_reason":null';
      sseEvent(res, `${head}{"index":${job},"delta":${delta ?? '{}'},"logprobs":${lp},${finish}}]}`);
    },
    onError: (err) => sseError(ctx, res, err),
    onDone(usage: Usage) {
      corkForTick(res);
      if (includeUsage) sseEvent(res, `${head}],"usage":${JSON.stringify(usage)}}`);
      sseDone(res);
    },
  });
}

/** The tool_calls delta for output token t, or null when that token adds nothing visible. */
function toolDelta(call: ToolCallInfo, plan: OutputPlan, t: number): string | null {
  if (t === call.prefixTokens - 1) {
    return `{"tool_calls":[{"id":"${call.id}","type":"function","index":0,"function":{"name":${JSON.stringify(call.name)}}}]}`;
  }
  if (t >= call.prefixTokens && t < call.prefixTokens + call.argTokens) {
    return `{"tool_calls":[{"index":0,"function":{"arguments":${JSON.stringify(plan.pieces[t])}}}]}`;
  }
  return null;
}

function chatLogprob(ctx: SimContext, c: Choice, t: number, k: number) {
  const id = c.plan.ids[t];
  const lp = tokenLogprob(ctx.vocab, c.seed, t, id, k);
  const entry = (tokenId: number, logprob: number) => {
    const token = ctx.tokenizer.idToText(tokenId);
    return { token, logprob, bytes: [...Buffer.from(token, 'utf8')] };
  };
  return { ...entry(id, lp.logprob), top_logprobs: lp.top.map((x) => entry(x.id, x.logprob)) };
}

export function parseMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw bad('messages must be a non-empty array', 'messages');
  for (const m of value) {
    if (!m || typeof m !== 'object' || typeof (m as ChatMessage).role !== 'string') {
      throw bad('each message must be an object with a string role', 'messages');
    }
    const content = (m as ChatMessage).content;
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      throw bad('message content must be a string or an array of content parts', 'messages');
    }
  }
  return value as ChatMessage[];
}

function parseTools(value: unknown): ChatTool[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad('tools must be an array', 'tools');
  for (const t of value) {
    const fn = (t as ChatTool | null)?.function;
    if (!fn || typeof fn.name !== 'string' || (t as ChatTool).type !== 'function') {
      throw bad('each tool must be {"type": "function", "function": {"name": ...}}', 'tools');
    }
  }
  return value as ChatTool[];
}

function parseToolChoice(value: unknown, tools: ChatTool[]): ToolChoice {
  if (value === undefined || value === null) return { mode: tools.length > 0 ? 'auto' : 'none' };
  if (value === 'none' || value === 'auto' || value === 'required') {
    if (value === 'required' && tools.length === 0) throw bad('When using `tool_choice`, `tools` must be set.', 'tool_choice');
    return { mode: value };
  }
  const name = (value as { function?: { name?: unknown } })?.function?.name;
  if (typeof value === 'object' && typeof name === 'string') {
    if (!tools.some((t) => t.function.name === name)) throw bad(`Tool '${name}' has not been passed in \`tools\`.`, 'tool_choice');
    return { mode: 'named', name };
  }
  throw bad('tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}', 'tool_choice');
}

function parseResponseFormat(value: unknown): { schema: JsonSchema | undefined } | null {
  if (value === undefined || value === null) return null;
  const type = (value as { type?: unknown }).type;
  if (type === 'text') return null;
  if (type === 'json_object') return { schema: undefined };
  if (type === 'json_schema') {
    const schema = (value as { json_schema?: { schema?: unknown } }).json_schema?.schema;
    if (!schema || typeof schema !== 'object') throw bad('response_format.json_schema.schema must be an object', 'response_format');
    return { schema: schema as JsonSchema };
  }
  throw bad('response_format.type must be one of text, json_object, json_schema', 'response_format');
}
