/**
 * Hostile request bodies for the /v1 endpoints (fast-check arbitraries) and the checks every answer
 * must pass. Shared by the CI-size suite (test/fuzz/request-bodies.test.ts) and the full-size run
 * (`npm run bench:fuzz`, bench/fuzz/run.ts).
 *
 * Bodies are written as JSON *text*, so they can carry what JSON.stringify never produces: repeated
 * keys (JSON.parse keeps the last), number literals that overflow (1e400 → Infinity) or lose precision,
 * `-0`, broken syntax, nesting thousands of levels deep. Each case is one of several generators, and
 * the generators are weighted so that every stage of the pipeline refuses some of them — the parser,
 * the schema, the prompt stage (context window) and the quota stage — while well-formed bodies may
 * succeed: a fuzzer whose bodies all die in JSON.parse tests nothing behind it.
 */
import fc from 'fast-check';
import { ErrorCode, mapErrorCode } from '../../src/errors/error-codes.js';
import { assertMatchesSchema } from '../support/openai-schema.js';

export type Endpoint = 'chat.completions' | 'completions' | 'embeddings';
export const ENDPOINTS: readonly Endpoint[] = ['chat.completions', 'completions', 'embeddings'];
export const PATHS: Record<Endpoint, string> = { 'chat.completions': '/v1/chat/completions', completions: '/v1/completions', embeddings: '/v1/embeddings' };

/** Where a body ended: refused by one stage of the pipeline, or served. */
export type Stage = 'edge' | 'parse' | 'schema' | 'prompt' | 'quota' | 'runtime' | 'served';
export const STAGES: readonly Stage[] = ['edge', 'parse', 'schema', 'prompt', 'quota', 'runtime', 'served'];

/**
 * The stage each error code comes from (the one table). `invalid_request_error` is what a runtime's own
 * 400 becomes (a parameter the pod refused: `runtime`), and also two refusals of ours told apart by
 * their message: the body is not a JSON object (parse), the chat template cannot render the messages
 * (prompt). `invalid_value` is raised by the schema checks, and once by the prompt stage (max_tokens
 * above the model's own output limit) — counted as schema, where the same rule would sit.
 */
const STAGE_OF_CODE: Partial<Record<ErrorCode, Stage>> = {
  [ErrorCode.PayloadTooLarge]: 'edge',
  [ErrorCode.UnsupportedMediaType]: 'edge',
  [ErrorCode.RequestTimeout]: 'edge',
  [ErrorCode.HeadersTooLarge]: 'edge',
  [ErrorCode.InvalidJson]: 'parse',
  [ErrorCode.InvalidRequest]: 'runtime',
  [ErrorCode.InvalidValue]: 'schema',
  [ErrorCode.MissingRequiredParameter]: 'schema',
  [ErrorCode.UnknownParameter]: 'schema',
  [ErrorCode.UnsupportedParameter]: 'schema',
  [ErrorCode.UnsupportedValue]: 'schema',
  [ErrorCode.InvalidImageUrl]: 'schema',
  [ErrorCode.ResponseTooLarge]: 'runtime',
  [ErrorCode.ModelNotFound]: 'schema',
  [ErrorCode.ContextLengthExceeded]: 'prompt',
  [ErrorCode.RateLimitExceeded]: 'quota',
  [ErrorCode.InsufficientQuota]: 'quota',
};

export function stageOf(code: string, message: string): Stage | undefined {
  if (code === ErrorCode.InvalidRequest && message.startsWith('The request body must be a JSON object')) return 'parse';
  if (code === ErrorCode.InvalidRequest && message.startsWith("The messages could not be rendered with this model's chat template")) return 'prompt';
  return STAGE_OF_CODE[code as ErrorCode];
}

/** What a fuzz run is pointed at. `tight` is a tenant whose TPM limit is below the context window. */
export interface FuzzTarget {
  models: { chat: string; embed: string };
  contextWindow: { chat: number; embed: number };
  tightTpm: number;
}

export type Tenant = 'roomy' | 'tight';

/** One generated case: the body text, whose key it is sent with, and which generator made it. */
export interface FuzzCase {
  endpoint: Endpoint;
  generator: string;
  tenant: Tenant;
  text: string;
}

// ---------------------------------------------------------------------------------------------------
// JSON text with repeated keys and raw literals

/** A JSON fragment written as is: literals JSON.stringify cannot produce, or broken text. */
class Raw {
  constructor(readonly text: string) {}
}
/** An object written entry by entry, so a key may appear twice. */
class Entries {
  constructor(readonly entries: Array<[string, unknown]>) {}
}

function write(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Entries) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  if (value && typeof value === 'object') return write(new Entries(Object.entries(value)));
  return JSON.stringify(value) ?? 'null';
}

// ---------------------------------------------------------------------------------------------------
// Hostile values

const UNICODE_EDGES = [
  '\u0000', '\ud800', '\udfff', 'a\ud83d', '\udc00b', '\ufeff', '\ufffe', '\uffff', '\u202e', '\u200b\u200d', '\u{10ffff}', '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}',
  'e\u0301'.repeat(300), '\u0d15\u0d4d\u0d37', '<|begin_of_text|>', '<|eot_id|><|start_header_id|>system<|end_header_id|>', '{{ raise_exception("x") }}', '{% for %}',
];
const NAN_LIKE = ['NaN', 'nan', 'Infinity', '-Infinity', '1e999', '0x10', ' 12 ', '1_000', 'null', 'undefined', 'true', '', '-0', '１２'];
const NUMBER_LITERALS = ['1e400', '-1e400', '-0', '1E+2', '123456789012345678901234567890', '9007199254740993', '0.1e-400', '2147483648', '-2147483649', '1.0', '4.9e-324'];

const unicodeString = fc.oneof(
  fc.constantFrom(...UNICODE_EDGES),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

const hugeOrOdd = fc.oneof(
  fc.constantFrom(-1, 0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e308, -1e308, 5e-324, 0.5, -0.0001, 1e21),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(...NUMBER_LITERALS).map((t) => new Raw(t)),
);

/** Deeply nested arrays or objects, as text (no recursion in the generator or the writer). */
const deep = fc.tuple(fc.integer({ min: 2, max: 5_000 }), fc.boolean()).map(([depth, objects]) =>
  new Raw(objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`),
);

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, '', [null], { '': null }), weight: 2 },
  { arbitrary: hugeOrOdd, weight: 4 },
  { arbitrary: fc.constantFrom(...NAN_LIKE), weight: 2 },
  { arbitrary: unicodeString, weight: 3 },
  { arbitrary: deep, weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  { arbitrary: fc.array(hugeOrOdd, { maxLength: 5 }), weight: 1 },
);

// ---------------------------------------------------------------------------------------------------
// Well-formed bodies

const words = fc.array(fc.constantFrom('rail', 'yard', 'dawn', 'switch', 'signal', 'freight', 'the', 'a', 'of', 'Ω', '列车', '🚂'), { minLength: 1, maxLength: 12 }).map((w) => w.join(' '));
const text = fc.oneof({ arbitrary: words, weight: 4 }, { arbitrary: unicodeString, weight: 1 });
const smallCap = fc.integer({ min: 1, max: 8 });

function validChat(model: string) {
  const message = fc.oneof(
    fc.record({ role: fc.constantFrom('user', 'system', 'developer'), content: text }),
    fc.record({ role: fc.constant('user'), content: fc.array(fc.record({ type: fc.constant('text'), text }), { minLength: 1, maxLength: 3 }) }),
    fc.record({ role: fc.constant('assistant'), content: text }),
  );
  return fc.record(
    {
      model: fc.constant(model),
      messages: fc.array(message, { minLength: 1, maxLength: 4 }),
      max_tokens: smallCap,
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      top_p: fc.double({ min: 0, max: 1, noNaN: true }),
      n: fc.integer({ min: 1, max: 3 }),
      stream: fc.boolean(),
      seed: fc.integer(),
      stop: fc.oneof(words, fc.array(words, { maxLength: 4 })),
      user: text,
    },
    { requiredKeys: ['model', 'messages', 'max_tokens'] },
  );
}

function validCompletion(model: string) {
  const tokenIds = fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 16 });
  return fc.record(
    {
      model: fc.constant(model),
      prompt: fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 }), tokenIds, fc.array(tokenIds, { minLength: 1, maxLength: 2 })),
      max_tokens: smallCap,
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      n: fc.integer({ min: 1, max: 3 }),
      stream: fc.boolean(),
      echo: fc.boolean(),
      logprobs: fc.integer({ min: 0, max: 5 }),
      seed: fc.integer(),
    },
    { requiredKeys: ['model', 'prompt', 'max_tokens'] },
  );
}

function validEmbedding(model: string) {
  const tokenIds = fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 16 });
  return fc.record(
    {
      model: fc.constant(model),
      input: fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 4 }), tokenIds, fc.array(tokenIds, { minLength: 1, maxLength: 3 })),
      encoding_format: fc.constantFrom('float', 'base64'),
      user: text,
    },
    { requiredKeys: ['model', 'input'] },
  );
}

function valid(endpoint: Endpoint, t: FuzzTarget): fc.Arbitrary<Record<string, unknown>> {
  if (endpoint === 'chat.completions') return validChat(t.models.chat);
  if (endpoint === 'completions') return validCompletion(t.models.chat);
  return validEmbedding(t.models.embed);
}

const FIELDS: Record<Endpoint, string[]> = {
  'chat.completions': ['model', 'messages', 'max_tokens', 'max_completion_tokens', 'n', 'temperature', 'top_p', 'stream', 'stream_options', 'stop', 'tools', 'tool_choice', 'response_format', 'logprobs', 'top_logprobs', 'logit_bias', 'seed', 'user', 'top_k', 'min_tokens', 'ignore_eos'],
  completions: ['model', 'prompt', 'max_tokens', 'n', 'temperature', 'stream', 'stream_options', 'stop', 'echo', 'logprobs', 'best_of', 'suffix', 'logit_bias', 'seed', 'min_tokens'],
  embeddings: ['model', 'input', 'dimensions', 'encoding_format', 'user', 'truncate_prompt_tokens'],
};

// ---------------------------------------------------------------------------------------------------
// The generators

type Gen = (endpoint: Endpoint, t: FuzzTarget) => fc.Arbitrary<{ tenant: Tenant; body: unknown } | { tenant: Tenant; raw: string }>;

const roomy = (body: unknown) => ({ tenant: 'roomy' as const, body });

/** Text that is not a JSON object: garbage, truncated JSON, bare values, invalid literals. */
const garbage: Gen = (endpoint, t) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constantFrom('', ' ', '{', '}', '[]', 'null', '"x"', '1', 'NaN', '{"model":}', "{'model':'x'}", '{"model":"x",}', '\ufeff{}', '{"a":1}{"b":2}', '/* */{}', '{"a":"\\ud800"', '{"a":"\\x41"}'),
    valid(endpoint, t).map((b) => JSON.stringify(b)).chain((s) => fc.integer({ min: 0, max: Math.max(0, s.length - 1) }).map((cut) => s.slice(0, cut))),
    fc.array(hugeOrOdd, { maxLength: 4 }).map((v) => write(v)),
  ).map((raw) => ({ tenant: 'roomy' as const, raw }));

/** Any JSON object: mostly unknown fields and wrong shapes. */
const anyObject: Gen = () => fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), unicodeString), hostile, { maxKeys: 6 }).map(roomy);

/** A well-formed body with one to three fields replaced by hostile values (some may still be valid). */
const mutated: Gen = (endpoint, t) =>
  fc
    .tuple(valid(endpoint, t), fc.array(fc.tuple(fc.constantFrom(...FIELDS[endpoint]), hostile), { minLength: 1, maxLength: 3 }))
    .map(([body, changes]) => roomy({ ...body, ...Object.fromEntries(changes) }));

/** A well-formed body where one key repeats: hostile then valid, or valid then hostile. */
const duplicateKeys: Gen = (endpoint, t) =>
  fc.tuple(valid(endpoint, t), fc.constantFrom(...FIELDS[endpoint]), hostile, fc.boolean()).map(([body, key, bad, badLast]) => {
    const entries = Object.entries(body);
    const good = body[key] ?? 1;
    entries.push(...(badLast ? ([[key, good], [key, bad]] as Array<[string, unknown]>) : ([[key, bad], [key, good]] as Array<[string, unknown]>)));
    return roomy(new Entries(entries));
  });

/** A well-formed body with a deeply nested value in a field the schema allows objects or arrays in. */
const nested: Gen = (endpoint, t) =>
  fc.tuple(valid(endpoint, t), deep, fc.constantFrom('metadata', 'logit_bias', 'stop', 'input', 'prompt', 'messages', 'chat_template_kwargs')).map(([body, d, key]) => roomy({ ...body, [key]: d }));

/** A well-formed body whose prompt or requested output does not fit the model's context window. */
const tooLong: Gen = (endpoint, t) => {
  const window = endpoint === 'embeddings' ? t.contextWindow.embed : t.contextWindow.chat;
  const long = fc.integer({ min: window + 10, max: window * 2 }).map((n) => 'rail '.repeat(n));
  if (endpoint === 'embeddings') return fc.tuple(validEmbedding(t.models.embed), long).map(([b, input]) => roomy({ ...b, input }));
  const field = endpoint === 'chat.completions' ? 'messages' : 'prompt';
  const prompt = (s: string) => (endpoint === 'chat.completions' ? [{ role: 'user', content: s }] : s);
  return fc.oneof(
    fc.tuple(valid(endpoint, t), long).map(([b, s]) => roomy({ ...b, [field]: prompt(s) })),
    // A short prompt with an output cap that cannot fit next to it.
    fc.tuple(valid(endpoint, t), fc.integer({ min: window - 2, max: window * 4 })).map(([b, cap]) => roomy({ ...b, [field]: prompt('rail yard at dawn'), max_tokens: cap, n: 1 })),
  );
};

/** A well-formed body that fits the window but not the `tight` tenant's tokens per minute. */
const overQuota: Gen = (endpoint, t) => {
  if (endpoint === 'embeddings') {
    const input = fc.integer({ min: t.tightTpm + 50, max: Math.min(t.contextWindow.embed - 50, t.tightTpm * 2) }).map((n) => 'rail '.repeat(n));
    return fc.tuple(validEmbedding(t.models.embed), input).map(([b, i]) => ({ tenant: 'tight' as const, body: { ...b, input: i } }));
  }
  const cap = fc.integer({ min: t.tightTpm + 1, max: t.contextWindow.chat - 200 });
  return fc.tuple(valid(endpoint, t), cap).map(([b, max_tokens]) => ({ tenant: 'tight' as const, body: { ...b, max_tokens, n: 1 } }));
};

/** Well-formed and meant to be served. */
const wellFormed: Gen = (endpoint, t) => valid(endpoint, t).map(roomy);

const GENERATORS: Array<{ name: string; gen: Gen; weight: number }> = [
  { name: 'garbage', gen: garbage, weight: 3 },
  { name: 'any-object', gen: anyObject, weight: 2 },
  { name: 'mutated', gen: mutated, weight: 8 },
  { name: 'duplicate-keys', gen: duplicateKeys, weight: 3 },
  { name: 'nested', gen: nested, weight: 1 },
  { name: 'too-long', gen: tooLong, weight: 1 },
  { name: 'over-quota', gen: overQuota, weight: 1 },
  { name: 'well-formed', gen: wellFormed, weight: 3 },
];

export function fuzzCases(endpoint: Endpoint, target: FuzzTarget): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    ...GENERATORS.map(({ name, gen, weight }) => ({
      weight,
      arbitrary: gen(endpoint, target).map((c): FuzzCase => ({ endpoint, generator: name, tenant: c.tenant, text: 'raw' in c ? c.raw : write(c.body) })),
    })),
  );
}

// ---------------------------------------------------------------------------------------------------
// Sending a case and judging the answer

export interface Outcome {
  status: number;
  stage: Stage;
  code?: string;
}

const RESPONSE_SCHEMA: Record<Endpoint, string> = {
  'chat.completions': 'CreateChatCompletionResponse',
  completions: 'CreateCompletionResponse',
  embeddings: 'CreateEmbeddingResponse',
};

/**
 * Sends one case and checks the answer: never a 5xx or a dropped connection; a refusal is OpenAI's
 * error object whose type and status agree with its code's mapping, from a stage the table knows; a
 * success matches OpenAI's response schema (a stream ends with [DONE] and carries no error event).
 * Throws, naming the case, when any of that fails.
 */
export async function probe(baseUrl: string, keys: Record<Tenant, string>, c: FuzzCase): Promise<Outcome> {
  const fail = (why: string, detail = ''): never => {
    throw new Error(`${c.endpoint} [${c.generator}] ${why}\nbody (${c.text.length} chars): ${c.text.slice(0, 600)}${detail ? `\n${detail}` : ''}`);
  };
  let res: Response;
  let body: string;
  try {
    res = await fetch(`${baseUrl}${PATHS[c.endpoint]}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys[c.tenant]}`, 'content-type': 'application/json' },
      body: c.text,
      signal: AbortSignal.timeout(60_000),
    });
    body = await res.text();
  } catch (err) {
    return fail(`no answer: ${(err as Error).message}`);
  }
  if (res.status >= 500) fail(`answered ${res.status}`, body.slice(0, 600));
  if (res.status === 200) {
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
      const events = body.split('\n\n').filter((e) => e.startsWith('data: '));
      if (events.at(-1) !== 'data: [DONE]') fail('stream did not end with [DONE]', body.slice(-600));
      for (const e of events.slice(0, -1)) {
        const chunk = JSON.parse(e.slice(6)) as { error?: unknown };
        if (chunk.error) fail('stream carried an error event', e);
      }
    } else {
      try {
        const json = JSON.parse(body) as { data?: Array<{ embedding: unknown }> };
        // encoding_format "base64": OpenAI sends each vector as base64 of little-endian float32s, a case
        // its schema leaves out (it says number[]); decoded, it must be that array.
        for (const item of c.endpoint === 'embeddings' ? (json.data ?? []) : []) {
          if (typeof item.embedding !== 'string') continue;
          const bytes = Buffer.from(item.embedding, 'base64');
          if (bytes.length === 0 || bytes.length % 4 !== 0) fail('base64 embedding is not a float32 vector', body.slice(0, 600));
          item.embedding = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
        }
        assertMatchesSchema(RESPONSE_SCHEMA[c.endpoint], json);
      } catch (err) {
        fail('success body does not match the response schema', (err as Error).message.slice(0, 1000));
      }
    }
    return { status: 200, stage: 'served' };
  }
  let error: { error: { message: string; type: string; param: string | null; code: string | null } };
  try {
    error = JSON.parse(body) as typeof error;
    assertMatchesSchema('ErrorResponse', error);
  } catch (err) {
    return fail(`answered ${res.status} without an OpenAI error body`, `${(err as Error).message.slice(0, 600)}\n${body.slice(0, 600)}`);
  }
  const code = error.error.code ?? '';
  if (!(Object.values(ErrorCode) as string[]).includes(code)) fail(`unknown error code ${JSON.stringify(code)}`, body.slice(0, 600));
  const mapping = mapErrorCode(code as ErrorCode);
  if (mapping.status !== res.status || mapping.type !== error.error.type) fail(`code ${code} came with ${res.status} ${error.error.type}, expected ${mapping.status} ${mapping.type}`);
  const stage = stageOf(code, error.error.message);
  if (!stage) fail(`no pipeline stage refuses a body with ${code}`, body.slice(0, 600));
  return { status: res.status, stage: stage!, code };
}

/** Counts per stage and per generator × stage, for the report. */
export class Tally {
  readonly stages: Record<Stage, number> = { edge: 0, parse: 0, schema: 0, prompt: 0, quota: 0, runtime: 0, served: 0 };
  readonly byGenerator = new Map<string, Record<Stage, number>>();
  readonly codes = new Map<string, number>();
  total = 0;

  add(c: FuzzCase, o: Outcome): void {
    this.total++;
    this.stages[o.stage]++;
    let row = this.byGenerator.get(c.generator);
    if (!row) this.byGenerator.set(c.generator, (row = { edge: 0, parse: 0, schema: 0, prompt: 0, quota: 0, runtime: 0, served: 0 }));
    row[o.stage]++;
    if (o.code) this.codes.set(o.code, (this.codes.get(o.code) ?? 0) + 1);
  }
}
