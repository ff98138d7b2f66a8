/**
 * JSON Schemas for the inference request bodies, following OpenAI's spec (CreateChatCompletionRequest,
 * CreateCompletionRequest, CreateEmbeddingRequest). Unknown top-level fields are passed through to the
 * runtime (vLLM accepts extensions such as top_k); see docs/api.md for the policy.
 */
const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });
const int = (minimum: number, maximum?: number) => ({ type: 'integer', minimum, ...(maximum === undefined ? {} : { maximum }) });
const num = (minimum: number, maximum: number) => ({ type: 'number', minimum, maximum });

const stop = nullable({
  anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, maxItems: 4, items: { type: 'string' } }],
});

const sampling = {
  temperature: nullable(num(0, 2)),
  top_p: nullable(num(0, 1)),
  n: nullable(int(1, 128)),
  stop,
  seed: nullable({ type: 'integer' }),
  presence_penalty: nullable(num(-2, 2)),
  frequency_penalty: nullable(num(-2, 2)),
  logit_bias: nullable({ type: 'object', additionalProperties: num(-100, 100) }),
  user: { type: 'string' },
  stream: nullable({ type: 'boolean' }),
  stream_options: nullable({
    type: 'object',
    properties: { include_usage: { type: 'boolean' }, include_obfuscation: { type: 'boolean' } },
  }),
};

const contentPart = {
  type: 'object',
  required: ['type'],
  properties: { type: { enum: ['text', 'image_url', 'input_audio', 'file', 'refusal'] }, text: { type: 'string' } },
};

const message = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
    content: nullable({ anyOf: [{ type: 'string' }, { type: 'array', items: contentPart }] }),
    name: { type: 'string' },
    tool_call_id: { type: 'string' },
    tool_calls: { type: 'array' },
  },
};

const tool = {
  type: 'object',
  required: ['type', 'function'],
  properties: {
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,64}$' },
        description: { type: 'string' },
        parameters: { type: 'object' },
        strict: nullable({ type: 'boolean' }),
      },
    },
  },
};

export const chatCompletionSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    ...sampling,
    model: { type: 'string', minLength: 1 },
    messages: { type: 'array', minItems: 1, items: message },
    max_tokens: nullable(int(1)),
    max_completion_tokens: nullable(int(1)),
    logprobs: nullable({ type: 'boolean' }),
    top_logprobs: nullable(int(0, 20)),
    tools: { type: 'array', items: tool },
    tool_choice: {
      anyOf: [
        { enum: ['none', 'auto', 'required'] },
        { type: 'object', required: ['type', 'function'], properties: { type: { const: 'function' }, function: { type: 'object', required: ['name'] } } },
      ],
    },
    parallel_tool_calls: { type: 'boolean' },
    response_format: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { enum: ['text', 'json_object', 'json_schema'] },
        json_schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, schema: { type: 'object' }, strict: nullable({ type: 'boolean' }) } },
      },
    },
    service_tier: nullable({ enum: ['auto', 'default', 'flex', 'scale', 'priority'] }),
    metadata: nullable({ type: 'object' }),
    store: nullable({ type: 'boolean' }),
  },
} as const;

export const completionSchema = {
  type: 'object',
  required: ['model', 'prompt'],
  properties: {
    ...sampling,
    model: { type: 'string', minLength: 1 },
    prompt: {
      anyOf: [
        { type: 'string' },
        { type: 'array', minItems: 1, items: { type: 'string' } },
        { type: 'array', minItems: 1, items: { type: 'integer' } },
        { type: 'array', minItems: 1, items: { type: 'array', items: { type: 'integer' } } },
      ],
    },
    max_tokens: nullable(int(0)),
    logprobs: nullable(int(0, 5)),
    echo: nullable({ type: 'boolean' }),
    best_of: nullable(int(0, 20)),
    suffix: nullable({ type: 'string' }),
  },
} as const;

export const embeddingSchema = {
  type: 'object',
  required: ['model', 'input'],
  properties: {
    model: { type: 'string', minLength: 1 },
    input: {
      anyOf: [
        { type: 'string' },
        { type: 'array', minItems: 1, maxItems: 2048, items: { type: 'string' } },
        { type: 'array', minItems: 1, items: { type: 'integer' } },
        { type: 'array', minItems: 1, maxItems: 2048, items: { type: 'array', minItems: 1, items: { type: 'integer' } } },
      ],
    },
    encoding_format: { enum: ['float', 'base64'] },
    dimensions: int(1),
    user: { type: 'string' },
  },
} as const;
