/**
 * Parses and validates inference request bodies against OpenAI's own request schemas
 * (openai-requests.json, generated from the official spec, made strict in request-schema.ts), then the
 * cross-field rules the schema cannot say. Errors name the exact `param` the way OpenAI does
 * (`messages[2].content`).
 *
 * Unknown fields: OpenAI rejects them ("Unrecognized request argument supplied" at the top, "Additional
 * properties are not allowed" below it); so do we, anywhere in the body, except vLLM's documented
 * extensions (request-schema.ts), each checked for type and bounds. What passes is what the runtime
 * gets: nothing unvalidated is forwarded.
 */
import { Inject, Injectable } from '@nestjs/common';
import { Ajv, type Options } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import type { InferenceEndpoint } from '../runtimes/index.js';
import { ImageUrlPolicy } from './image-url-policy.js';
import { CHAT_TEMPLATE_KWARGS, INT32_MAX, ROOT_SCHEMA, VLLM_EXTENSIONS, strictSchemas } from './request-schema.js';

export type RequestBody = Record<string, unknown> & { model: string };

import openaiRequests from './openai-requests.json' with { type: 'json' };

const spec = openaiRequests as unknown as {
  properties: Record<string, string[]>;
  components: { schemas: Record<string, object> };
};

/** "/messages/2/content" → "messages[2].content" */
export function toParam(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (extra) parts.push(extra);
  return parts.reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

/** The property an error is about, for the keywords that name one below their instance path. */
function namedProperty(error: ErrorObject): string | undefined {
  const p = error.params as { missingProperty?: string; additionalProperty?: string; unevaluatedProperty?: string };
  return p.missingProperty ?? p.additionalProperty ?? p.unevaluatedProperty;
}

const UNKNOWN_FIELD = new Set(['additionalProperties', 'unevaluatedProperties']);

/**
 * The most specific error: oneOf/anyOf branches each report one; the deepest path is the real culprit.
 * At equal depth an unknown field beats a mismatched enum: a message `{"role": "user", "foo": 1}` fails
 * the other roles' branches on `role` and the user branch on `foo`, and `foo` is the client's mistake.
 */
function pickError(errors: ErrorObject[]): ErrorObject {
  const rank = (e: ErrorObject) => 2 * (e.instancePath.split('/').length + (namedProperty(e) !== undefined ? 1 : 0)) + (UNKNOWN_FIELD.has(e.keyword) ? 1 : 0);
  return errors.reduce((best, e) => (rank(e) > rank(best) ? e : best), errors[0]!);
}

function describe(error: ErrorObject): ApiError {
  const param = toParam(error.instancePath) || null;
  const where = param ? `'${param}'` : 'the request body';
  switch (error.keyword) {
    case 'required': {
      const name = toParam(error.instancePath, namedProperty(error));
      return new ApiError(ErrorCode.MissingRequiredParameter, `Missing required parameter: '${name}'.`, name);
    }
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const name = toParam(error.instancePath, namedProperty(error));
      const allowed = param === 'chat_template_kwargs' ? ` Allowed keys: ${Object.keys(CHAT_TEMPLATE_KWARGS).join(', ')}.` : '';
      return new ApiError(ErrorCode.UnknownParameter, `Unknown parameter: '${name}'.${allowed}`, name);
    }
    case 'type':
      return new ApiError(ErrorCode.InvalidValue, `Invalid type for ${where}: expected ${(error.params as { type: string }).type}.`, param);
    case 'enum':
    case 'const': {
      const allowed = (error.params as { allowedValues?: unknown[]; allowedValue?: unknown }).allowedValues ?? [(error.params as { allowedValue?: unknown }).allowedValue];
      return new ApiError(ErrorCode.InvalidValue, `Invalid value for ${where}: expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}.`, param);
    }
    default:
      return new ApiError(ErrorCode.InvalidValue, `Invalid value for ${where}: ${error.message}.`, param);
  }
}

/** Body-wide nesting limit: deeper JSON than any real request would exhaust the stack downstream. */
const MAX_BODY_DEPTH = 64;
/** Prompts in one completions request (the same bound OpenAI puts on embedding inputs). */
const MAX_PROMPTS = 2048;

/**
 * Bounds on the output caps the quota reserves from (prompt + cap × n × prompts), where OpenAI's schema
 * leaves them open: a negative or huge cap would turn the reservation and the spend settled against it
 * into nonsense. Chat needs at least one output token (a zero cap reserves nothing and then fails at the
 * runtime); /v1/completions keeps the spec's own minimum of 0.
 */
const OUTPUT_CAPS: Record<InferenceEndpoint, Record<string, { min: number; max: number }>> = {
  'chat.completions': { max_tokens: { min: 1, max: INT32_MAX }, max_completion_tokens: { min: 1, max: INT32_MAX } },
  completions: { max_tokens: { min: 0, max: INT32_MAX } },
  embeddings: {},
};

/** OpenAI's wording for an integer out of range. */
function outOfRange(param: string, value: number, bounds: { min: number; max: number }): ApiError {
  const [side, expected] = value < bounds.min ? ['below minimum', `>= ${bounds.min}`] : ['above maximum', `<= ${bounds.max}`];
  return new ApiError(ErrorCode.InvalidValue, `Invalid '${param}': integer ${side} value. Expected a value ${expected}, but got ${value} instead.`, param);
}

/**
 * JSON Schema dialects a user schema (tool parameters, response_format) may declare in `$schema`, each
 * checked against its own meta-schema; without `$schema`, 2020-12. Draft-07 is what the openai SDK's
 * zod helpers emit. Keys are the dialect URIs without a trailing '#'.
 */
function schemaCheckers(): Map<string, Ajv | Ajv2019 | Ajv2020> {
  const options: Options = { strict: false, validateSchema: true, addUsedSchema: false };
  return new Map<string, Ajv | Ajv2019 | Ajv2020>([
    ['https://json-schema.org/draft/2020-12/schema', new Ajv2020(options)],
    ['https://json-schema.org/draft/2019-09/schema', new Ajv2019(options)],
    ['http://json-schema.org/draft-07/schema', new Ajv(options)],
  ]);
}
const DEFAULT_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** True when `value` nests deeper than `limit` levels; iterative, stops at the first level too deep. */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!node || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) if (child && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

@Injectable()
export class RequestValidator {
  private readonly validators: Record<InferenceEndpoint, ValidateFunction>;
  private readonly known: Record<InferenceEndpoint, Set<string>>;
  /** Check user-supplied JSON Schemas (tool parameters, response_format) against their meta-schema. */
  private readonly schemaCheckers = schemaCheckers();
  private readonly limits: AppConfig['prompt'];
  private readonly images: ImageUrlPolicy;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.limits = config.prompt;
    this.images = new ImageUrlPolicy(config.prompt.imageUrlHosts, config.prompt.maxImageUrlBytes);
    const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
    ajv.addKeyword({ keyword: 'discriminator' });
    const schemas = strictSchemas(spec.components.schemas);
    ajv.addSchema({ $id: 'openai', components: { schemas: schemas.components } });
    this.validators = {
      'chat.completions': ajv.compile(schemas.roots['chat.completions']),
      completions: ajv.compile(schemas.roots.completions),
      embeddings: ajv.compile(schemas.roots.embeddings),
    };
    const known = (e: InferenceEndpoint) => new Set([...spec.properties[ROOT_SCHEMA[e]]!, ...VLLM_EXTENSIONS[e]]);
    this.known = { 'chat.completions': known('chat.completions'), completions: known('completions'), embeddings: known('embeddings') };
  }

  /** `raw` is the unparsed body: parsing here gives malformed JSON the same error shape as the rest. */
  parse(endpoint: InferenceEndpoint, raw: Buffer | string | undefined): RequestBody {
    let body: unknown;
    try {
      body = JSON.parse(raw === undefined ? '' : raw.toString());
    } catch (err) {
      throw new ApiError(
        ErrorCode.InvalidJson,
        `We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.) ${(err as Error).message}`,
      );
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new ApiError(ErrorCode.InvalidRequest, 'The request body must be a JSON object.');
    }
    if (deeperThan(body, MAX_BODY_DEPTH)) {
      throw new ApiError(ErrorCode.InvalidValue, `The request body nests deeper than ${MAX_BODY_DEPTH} levels.`);
    }
    for (const key of Object.keys(body)) {
      if (!this.known[endpoint].has(key)) throw new ApiError(ErrorCode.UnknownParameter, `Unrecognized request argument supplied: ${key}`, key);
    }
    const validate = this.validators[endpoint];
    if (!validate(body)) throw describe(pickError(validate.errors!));
    const request = body as RequestBody;
    // The schema has checked each cap is an integer (or null).
    for (const [param, bounds] of Object.entries(OUTPUT_CAPS[endpoint])) {
      const value = request[param];
      if (typeof value === 'number' && (value < bounds.min || value > bounds.max)) throw outOfRange(param, value, bounds);
    }
    this.checkExtensions(request);
    if (endpoint === 'chat.completions') this.checkChat(request);
    if (endpoint === 'completions') this.checkCompletions(request);
    if (request.stream_options != null && request.stream !== true) {
      throw new ApiError(ErrorCode.InvalidValue, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
    }
    return request;
  }

  /** What the extensions' schemas cannot say (their types and bounds are checked already). */
  private checkExtensions(body: RequestBody): void {
    if (body.truncate_prompt_tokens === 0) {
      throw new ApiError(ErrorCode.InvalidValue, "Invalid 'truncate_prompt_tokens': expected -1 (the model's context window) or at least 1, but got 0 instead.", 'truncate_prompt_tokens');
    }
    const cap = body.max_completion_tokens ?? body.max_tokens;
    if (typeof body.min_tokens === 'number' && typeof cap === 'number' && body.min_tokens > cap) {
      throw new ApiError(ErrorCode.InvalidValue, `Invalid 'min_tokens': ${body.min_tokens} is more than the output cap of ${cap} tokens.`, 'min_tokens');
    }
  }

  /** The prompts a completion runs on: at least one, at most MAX_PROMPTS. */
  private checkCompletions(body: RequestBody): void {
    const prompt = body.prompt;
    // The spec lets `prompt` be null (its default is a bare end-of-text token) or an empty list; the
    // runtimes have no default prompt, so either would reserve nothing and then fail there.
    if (prompt === null || (Array.isArray(prompt) && prompt.length === 0)) {
      throw new ApiError(ErrorCode.InvalidValue, "Invalid 'prompt': expected a string, a list of strings or token ids, with at least one prompt.", 'prompt');
    }
    // A list of prompts (strings or token-id arrays); a flat number[] is one prompt of token ids.
    if (Array.isArray(prompt) && typeof prompt[0] !== 'number' && prompt.length > MAX_PROMPTS) {
      throw new ApiError(ErrorCode.InvalidValue, `Too many prompts: ${prompt.length}; at most ${MAX_PROMPTS} per request.`, 'prompt');
    }
  }

  /** Rules across fields and limits against abuse, which the schema cannot express. */
  private checkChat(body: RequestBody): void {
    const messages = body.messages as Array<{ content?: unknown }>;
    if (messages.length > this.limits.maxMessages) {
      throw new ApiError(ErrorCode.InvalidValue, `Too many messages: ${messages.length}; at most ${this.limits.maxMessages} are allowed.`, 'messages');
    }
    messages.forEach((message, i) => {
      const content = message.content;
      const length = typeof content === 'string' ? content.length : Array.isArray(content) ? content.reduce((n: number, p: { text?: string }) => n + (p?.text?.length ?? 0), 0) : 0;
      if (length > this.limits.maxMessageChars) {
        throw new ApiError(ErrorCode.InvalidValue, `Message too long: ${length} characters; at most ${this.limits.maxMessageChars} are allowed.`, `messages[${i}].content`);
      }
      if (!Array.isArray(content)) return;
      content.forEach((part: { type?: string; image_url?: { url: string } }, j: number) => {
        if (part.type === 'image_url' && part.image_url) this.images.check(part.image_url.url, `messages[${i}].content[${j}].image_url.url`);
      });
    });
    if (body.top_logprobs != null && body.logprobs !== true) {
      throw new ApiError(ErrorCode.InvalidValue, "'top_logprobs' requires 'logprobs' to be true.", 'top_logprobs');
    }
    const tools = (body.tools as Array<{ type: string; function?: { name: string; parameters?: unknown } }> | undefined) ?? [];
    if (tools.length > this.limits.maxTools) {
      throw new ApiError(ErrorCode.InvalidValue, `Too many tools: ${tools.length}; at most ${this.limits.maxTools} are allowed.`, 'tools');
    }
    const names = new Set<string>();
    tools.forEach((tool, i) => {
      if (!tool.function) return;
      if (names.has(tool.function.name)) throw new ApiError(ErrorCode.InvalidValue, `Duplicate tool name: ${tool.function.name}.`, `tools[${i}].function.name`);
      names.add(tool.function.name);
      if (tool.function.parameters !== undefined) this.checkSchema(tool.function.parameters, `tools[${i}].function.parameters`);
    });
    const choice = body.tool_choice as string | { type: string; function?: { name: string } } | undefined;
    if (choice !== undefined && choice !== 'none' && choice !== 'auto' && tools.length === 0) {
      throw new ApiError(ErrorCode.InvalidValue, "'tool_choice' is only allowed when 'tools' are specified.", 'tool_choice');
    }
    if (typeof choice === 'object' && choice.function && !names.has(choice.function.name)) {
      throw new ApiError(ErrorCode.InvalidValue, `Tool choice '${choice.function.name}' is not one of the tools given.`, 'tool_choice.function.name');
    }
    const format = body.response_format as { type: string; json_schema?: { schema?: unknown } } | undefined;
    if (format?.type === 'json_schema' && format.json_schema?.schema !== undefined) {
      this.checkSchema(format.json_schema.schema, 'response_format.json_schema.schema');
    }
  }

  private checkSchema(schema: unknown, param: string): void {
    if (deeperThan(schema, this.limits.maxSchemaDepth * 2 + 1)) {
      throw new ApiError(ErrorCode.InvalidValue, `Invalid schema for '${param}': nested deeper than ${this.limits.maxSchemaDepth} levels.`, param);
    }
    // The meta-schema follows the schema's declared dialect; one we do not know is the client's error
    // (Ajv would throw on it, which would surface as a 500).
    const declared = (schema as { $schema?: unknown }).$schema;
    const dialect = declared === undefined ? DEFAULT_DIALECT : declared;
    const checker = typeof dialect === 'string' ? this.schemaCheckers.get(dialect.replace(/#$/, '')) : undefined;
    if (!checker) {
      const known = [...this.schemaCheckers.keys()].join(', ');
      throw new ApiError(ErrorCode.InvalidValue, `Invalid schema for '${param}': unsupported $schema ${JSON.stringify(dialect).slice(0, 100)}; use one of ${known}, or leave it out.`, param);
    }
    // Checked against the JSON Schema meta-schema (tens of µs), not compiled (hundreds of µs).
    if (!checker.validateSchema(schema as object)) {
      throw new ApiError(ErrorCode.InvalidValue, `Invalid schema for '${param}': ${checker.errorsText(checker.errors)}`, param);
    }
  }
}
