/**
 * Request-field validation shared by the endpoints, with vLLM's limits (max_logprobs 20, n ≥ 1,
 * max_tokens ≥ 1, stream_options only with stream) and 400 BadRequestError on violations.
 */
import { SimError } from './errors.js';

export type Body = Record<string, unknown>;

export interface SamplingParams {
  n: number;
  /** Explicit max_tokens / max_completion_tokens, if any. */
  maxTokens: number | undefined;
  minTokens: number;
  temperature: number | undefined;
  seed: number | undefined;
  stop: string[];
  ignoreEos: boolean;
  stream: boolean;
  includeUsage: boolean;
}

/** vLLM's default --max-logprobs. */
export const MAX_LOGPROBS = 20;

export function bad(message: string, param: string | null = null): SimError {
  return new SimError(400, message, 'BadRequestError', param, true);
}

export function optInt(body: Body, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`${key} must be an integer`, key);
  if (v < min || v > max) throw bad(`${key} must be ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`}, got ${v}`, key);
  return v;
}

export function optNumber(body: Body, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${key} must be a number`, key);
  if (v < min || v > max) throw bad(`${key} must be between ${min} and ${max}, got ${v}`, key);
  return v;
}

export function optBool(body: Body, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw bad(`${key} must be a boolean`, key);
  return v;
}

export function optObject(body: Body, key: string): Body | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`${key} must be an object`, key);
  return v as Body;
}

/**
 * vLLM's `cache_salt`: a non-empty string salting the request's prefix-cache block hashes (vLLM:
 * "Parameter 'cache_salt' must be a non-empty string if provided.").
 */
export function optCacheSalt(body: Body): string | undefined {
  const v = body.cache_salt;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw bad("Parameter 'cache_salt' must be a non-empty string if provided.", 'cache_salt');
  return v;
}

export function parseSampling(body: Body): SamplingParams {
  const stream = optBool(body, 'stream') ?? false;
  const streamOptions = optObject(body, 'stream_options');
  if (streamOptions && !stream) throw bad('Stream options can only be defined when `stream=True`.', 'stream_options');
  const stopValue = body.stop;
  let stop: string[] = [];
  if (typeof stopValue === 'string') stop = [stopValue];
  else if (Array.isArray(stopValue)) {
    if (!stopValue.every((s) => typeof s === 'string')) throw bad('stop must be a string or an array of strings', 'stop');
    stop = stopValue as string[];
  } else if (stopValue !== undefined && stopValue !== null) throw bad('stop must be a string or an array of strings', 'stop');
  const maxCompletion = optInt(body, 'max_completion_tokens', 1);
  const maxTokens = maxCompletion ?? optInt(body, 'max_tokens', 1);
  return {
    n: optInt(body, 'n', 1, 128) ?? 1,
    maxTokens,
    minTokens: optInt(body, 'min_tokens', 0) ?? 0,
    temperature: optNumber(body, 'temperature', 0, 100),
    seed: optInt(body, 'seed', Number.MIN_SAFE_INTEGER),
    stop: stop.filter((s) => s.length > 0),
    ignoreEos: optBool(body, 'ignore_eos') ?? false,
    stream,
    includeUsage: stream && streamOptions?.include_usage === true,
  };
}

/** The served model check: an absent model means the default (only) model, as in vLLM. */
export function checkModel(body: Body, served: string): void {
  const model = body.model;
  if (model === undefined || model === null) return;
  if (typeof model !== 'string') throw bad('model must be a string', 'model');
  if (model !== served) throw new SimError(404, `The model \`${model}\` does not exist.`, 'NotFoundError', 'model');
}

/** OpenAI's prompt/input forms (string, strings, token ids, token-id arrays) as a list of prompts. */
export function parsePromptList(value: unknown, param: 'prompt' | 'input'): Array<string | number[]> {
  const isIds = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 0);
  if (typeof value === 'string') return [value];
  if (isIds(value)) return [value];
  if (Array.isArray(value) && value.length > 0) {
    if (value.every((v) => typeof v === 'string')) return value as string[];
    if (value.every(isIds)) return value as number[][];
  }
  throw bad(`${param} must be a string, an array of strings, an array of token ids or an array of token-id arrays`, param);
}
