/**
 * POST /v1/embeddings: each input is a prefill-only (pooling) request in the engine, so it costs
 * prefill time and can hit the prefix cache; the vector is a deterministic function of the input's
 * token ids (so a string and its token ids embed identically), L2-normalised, `dimensions` long.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { SimError } from './errors.js';
import { runGeneration, type GenerationJob } from './generation.js';
import { requestFaults, sendError, sendJson, uuidHex } from './http.js';
import { bad, checkModel, optInt, parsePromptList, type Body } from './params.js';
import { createRng, hashIds, mixSeed } from './rng.js';

const NO_OUTPUT = { ids: [], pieces: [], text: '', finishReason: 'stop', stopReason: null, truncated: false } as const;

export function handleEmbeddings(ctx: SimContext, req: IncomingMessage, res: ServerResponse, body: Body, arrivalMs: number): void {
  checkModel(body, ctx.config.model);
  const inputs = parsePromptList(body.input, 'input').map((x) => (typeof x === 'string' ? ctx.tokenizer.encode(x, { addSpecialTokens: true }) : x));
  const dimensions = optInt(body, 'dimensions', 1, 65536) ?? ctx.config.embeddingDim;
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw bad('encoding_format must be "float" or "base64"', 'encoding_format');
  const { maxModelLen } = ctx.config;
  for (const ids of inputs) {
    if (ids.length === 0) throw bad('input cannot be empty', 'input');
    if (ids.length > maxModelLen) {
      throw new SimError(
        400,
        `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${ids.length} tokens in the input for embedding generation. Please reduce the length of the input.`,
        'BadRequestError',
        'input',
      );
    }
  }
  const faults = requestFaults(ctx, req);
  const jobs: GenerationJob[] = inputs.map((ids) => ({ promptIds: ids, plan: { ...NO_OUTPUT, ids: [], pieces: [] }, countsPrompt: true }));
  runGeneration(ctx, res, arrivalMs, jobs, faults, {
    onToken() {},
    onError: (err) => sendError(ctx, res, err),
    onDone: (usage) => {
      const data = inputs.map((ids, index) => {
        const vector = embed(ctx.config.seed, ids, dimensions);
        const embedding = format === 'base64' ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64') : Array.from(vector);
        return { index, object: 'embedding', embedding };
      });
      const out = {
        id: `embd-${uuidHex()}`,
        object: 'list',
        created: Math.floor(Date.now() / 1000),
        model: ctx.config.model,
        data,
        usage: { prompt_tokens: usage.prompt_tokens, total_tokens: usage.prompt_tokens, completion_tokens: 0, prompt_tokens_details: null },
      };
      sendJson(res, 200, JSON.stringify(out));
    },
  });
}

/** A unit vector seeded by the token ids (Box–Muller normals, then L2 normalisation). */
export function embed(serverSeed: number, ids: readonly number[], dimensions: number): Float32Array {
  const rng = createRng(mixSeed(serverSeed, hashIds(ids), ids.length));
  const v = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    const theta = 2 * Math.PI * rng();
    v[i] = r * Math.cos(theta);
    if (i + 1 < dimensions) v[i + 1] = r * Math.sin(theta);
  }
  for (let i = 0; i < dimensions; i++) norm += v[i] * v[i];
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dimensions; i++) v[i] *= scale;
  return v;
}
