/**
 * The JSON Schemas request bodies are validated against: OpenAI's own (openai-requests.json, generated
 * from the official spec), made strict the way OpenAI's API is, plus the vLLM extensions the gateway
 * accepts, each with a type and bounds.
 *
 * Strict: OpenAI refuses a field it does not know anywhere in the body, not only at the top ("Additional
 * properties are not allowed ('id' was unexpected) - 'messages.0'"), but its published schemas leave
 * most objects open. Whatever passes here is sent to the runtime as is, and vLLM forwards unknown
 * nested fields into chat templates and multimodal loaders, so every object that lists its properties
 * is closed here. Objects the spec declares open on purpose (`additionalProperties` given: metadata,
 * logit_bias, a tool's JSON Schema) stay as declared. Members of an `allOf` stay open (each would refuse
 * its siblings' properties); the object they compose is closed with `unevaluatedProperties`, which
 * sees through the composition. The roots stay open: their unknown fields are refused by name first,
 * with OpenAI's top-level wording, and the vLLM extensions are added beside them.
 */
import type { InferenceEndpoint } from '../runtimes/index.js';

type Schema = Record<string, unknown>;

export const ROOT_SCHEMA: Record<InferenceEndpoint, string> = {
  'chat.completions': 'CreateChatCompletionRequest',
  completions: 'CreateCompletionRequest',
  embeddings: 'CreateEmbeddingRequest',
};

/** OpenAI's servers take integer parameters up to a signed 32-bit value. */
export const INT32_MAX = 2_147_483_647;

/**
 * `chat_template_kwargs` keys a client may set, each a scalar of one type. vLLM hands this object to
 * the chat template as variables, so a free-form one could override what the template renders
 * (`messages`, `tools`, `bos_token`, …) behind the gateway's token count and checks. These are the
 * switches reasoning models' templates read: Qwen3 `enable_thinking`, DeepSeek-V3.1 / Granite
 * `thinking`, gpt-oss `reasoning_effort`.
 */
export const CHAT_TEMPLATE_KWARGS: Record<string, Schema> = {
  enable_thinking: { type: 'boolean' },
  thinking: { type: 'boolean' },
  reasoning_effort: { type: 'string', enum: ['low', 'medium', 'high'] },
};

const boolean: Schema = { type: 'boolean' };

/**
 * vLLM request extensions accepted on top of OpenAI's fields (vLLM docs: "Extra parameters"), with the
 * bounds vLLM itself enforces or, where it has none, bounds no real request reaches.
 */
const EXTENSION_SCHEMAS: Record<string, Schema> = {
  top_k: { type: 'integer', minimum: -1, maximum: 1_000_000 }, // -1 / 0: off; a vocabulary is < 1M tokens
  min_p: { type: 'number', minimum: 0, maximum: 1 },
  repetition_penalty: { type: 'number', exclusiveMinimum: 0, maximum: 2 },
  length_penalty: { type: 'number', minimum: -10, maximum: 10 },
  ignore_eos: boolean,
  min_tokens: { type: 'integer', minimum: 0, maximum: INT32_MAX },
  stop_token_ids: { type: 'array', maxItems: 64, items: { type: 'integer', minimum: 0, maximum: INT32_MAX } },
  skip_special_tokens: boolean,
  spaces_between_special_tokens: boolean,
  include_stop_str_in_output: boolean,
  // -1: the model's context window; 0 is refused (request-validator.ts)
  truncate_prompt_tokens: { type: 'integer', minimum: -1, maximum: INT32_MAX },
  echo: boolean,
  add_generation_prompt: boolean,
  continue_final_message: boolean,
  add_special_tokens: boolean,
  chat_template_kwargs: { type: 'object', properties: CHAT_TEMPLATE_KWARGS, additionalProperties: false },
  // The client's partition of its organization's prefix cache (routing namespaces it; tenancy/cache-salt.ts).
  cache_salt: { type: 'string', minLength: 1, maxLength: 256 },
};

/** The vLLM extensions each endpoint accepts. */
export const VLLM_EXTENSIONS: Record<InferenceEndpoint, readonly string[]> = {
  'chat.completions': [
    'top_k', 'min_p', 'repetition_penalty', 'length_penalty', 'ignore_eos', 'min_tokens', 'stop_token_ids',
    'skip_special_tokens', 'spaces_between_special_tokens', 'include_stop_str_in_output', 'truncate_prompt_tokens',
    'echo', 'add_generation_prompt', 'continue_final_message', 'add_special_tokens', 'chat_template_kwargs', 'cache_salt',
  ],
  completions: [
    'top_k', 'min_p', 'repetition_penalty', 'length_penalty', 'ignore_eos', 'min_tokens', 'stop_token_ids',
    'skip_special_tokens', 'spaces_between_special_tokens', 'include_stop_str_in_output', 'truncate_prompt_tokens',
    'add_special_tokens', 'cache_salt',
  ],
  embeddings: ['truncate_prompt_tokens', 'add_special_tokens'],
};

const COMBINATORS = ['allOf', 'anyOf', 'oneOf'] as const;
/** Keywords whose value is one schema, or a list of alternative schemas, each closed in its own right. */
const SUBSCHEMA_KEYS = ['anyOf', 'oneOf', 'items', 'prefixItems', 'not', 'if', 'then', 'else', 'contains', 'additionalProperties', 'unevaluatedProperties'];

/** Closes `node` and every object below it (in place); `open`: leave this node itself open. */
function close(node: unknown, open = false): void {
  if (Array.isArray(node)) return node.forEach((n) => close(n));
  if (!node || typeof node !== 'object') return;
  const schema = node as Schema;
  for (const key of ['properties', 'patternProperties', '$defs'] as const) {
    const named = schema[key] as Record<string, unknown> | undefined;
    if (named && typeof named === 'object') for (const child of Object.values(named)) close(child);
  }
  for (const key of SUBSCHEMA_KEYS) if (key in schema) close(schema[key]);
  if (Array.isArray(schema.allOf)) for (const member of schema.allOf) close(member, true);
  if (open || 'additionalProperties' in schema || 'unevaluatedProperties' in schema) return;
  if (COMBINATORS.some((k) => k in schema) || '$ref' in schema) {
    if (schema.properties || Array.isArray(schema.allOf)) schema.unevaluatedProperties = false;
  } else if (schema.properties) {
    schema.additionalProperties = false;
  }
}

/** Names of the component schemas some `allOf` composes by reference. */
function allOfMembers(schemas: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const allOf = (node as Schema).allOf;
    if (Array.isArray(allOf)) for (const m of allOf) if (typeof (m as Schema).$ref === 'string') names.add(((m as Schema).$ref as string).split('/').pop()!);
    Object.values(node).forEach(visit);
  };
  visit(schemas);
  return names;
}

/**
 * A strict copy of OpenAI's component schemas (see the header), and for each endpoint the root to
 * compile: OpenAI's request schema with the endpoint's vLLM extensions beside it.
 */
export function strictSchemas(components: Record<string, object>): { components: Record<string, unknown>; roots: Record<InferenceEndpoint, Schema> } {
  const copy = structuredClone(components) as Record<string, Schema>;
  const members = allOfMembers(copy);
  const rootNames = new Set(Object.values(ROOT_SCHEMA));
  for (const [name, schema] of Object.entries(copy)) {
    // A root's own unknown fields are refused by name before the schema runs (request-validator.ts).
    if (rootNames.has(name) && schema.additionalProperties === false) delete schema.additionalProperties;
    close(schema, members.has(name) || rootNames.has(name));
  }
  const root = (endpoint: InferenceEndpoint): Schema => ({
    allOf: [{ $ref: `openai#/components/schemas/${ROOT_SCHEMA[endpoint]}` }],
    properties: Object.fromEntries(VLLM_EXTENSIONS[endpoint].map((name) => [name, EXTENSION_SCHEMAS[name]!])),
  });
  return { components: copy, roots: { 'chat.completions': root('chat.completions'), completions: root('completions'), embeddings: root('embeddings') } };
}
