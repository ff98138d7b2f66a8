/**
 * The simulator's HTTP server: plain node:http, vLLM's OpenAI-compatible routes and its
 * operational ones (/health, /metrics, /tokenize, /detokenize, /version). Unknown routes answer like
 * FastAPI ({"detail":"Not Found"}).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { handleChat, parseMessages } from './chat.js';
import { handleCompletions } from './completions.js';
import type { SimContext } from './context.js';
import { handleEmbeddings } from './embeddings.js';
import { SimError } from './errors.js';
import { checkTrtllmRequest } from './trtllm-protocol.js';
import { readBody, sendError, sendJson, uuidHex } from './http.js';
import { bad, checkModel, optBool, optObject, type Body } from './params.js';
import type { ChatTool } from '../../src/prompt/tokenizer.js';

/** The vLLM release whose API the simulator imitates (reported by GET /version). */
export const SIM_VLLM_VERSION = '0.19.1+sim';
/** The TensorRT-LLM release whose trtllm-serve the simulator imitates with `--flavor trtllm`. */
export const SIM_TRTLLM_VERSION = '1.0.0+sim';

type Handler = (ctx: SimContext, req: IncomingMessage, res: ServerResponse, body: Body, arrivalMs: number) => void;

const POST_JSON: Record<string, Handler> = {
  '/v1/chat/completions': handleChat,
  '/v1/completions': handleCompletions,
  '/v1/embeddings': handleEmbeddings,
  '/tokenize': (ctx, _req, res, body) => tokenize(ctx, res, body),
  '/detokenize': (ctx, _req, res, body) => detokenize(ctx, res, body),
};

/**
 * trtllm-serve's generation routes: no embeddings (a separate `trtllm-serve embeddings` server) and
 * no tokenize/detokenize; unknown routes get FastAPI's 404 as with vLLM.
 */
const TRTLLM_POST_JSON: Record<string, Handler> = {
  '/v1/chat/completions': handleChat,
  '/v1/completions': handleCompletions,
};

export function createSimServer(ctx: SimContext): Server {
  const server = createServer((req, res) => {
    const arrivalMs = ctx.clock.now();
    route(ctx, req, res, arrivalMs).catch((err: unknown) => fail(ctx, res, err));
  });
  // Streams can run for minutes: no request timeout; keep-alive like uvicorn (5 s).
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

async function route(ctx: SimContext, req: IncomingMessage, res: ServerResponse, arrivalMs: number): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const trtllm = ctx.trtllmMetrics;
  const post = (trtllm ? TRTLLM_POST_JSON : POST_JSON)[path];
  if (post) {
    if (req.method !== 'POST') return methodNotAllowed(res);
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      throw new SimError(400, `JSON decode error: ${(err as Error).message}`, 'BadRequestError', null, true);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('The request body must be a JSON object');
    if (trtllm) checkTrtllmRequest(path, body as Body);
    post(ctx, req, res, body as Body, arrivalMs);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return ['/health', '/metrics', '/v1/models', '/version'].includes(path) ? methodNotAllowed(res) : notFound(res);
  }
  if (trtllm) {
    switch (path) {
      case '/metrics':
        sendJson(res, 200, JSON.stringify(trtllm.iterationStats()));
        return;
      case '/prometheus/metrics':
        sendJson(res, 200, await trtllm.renderPrometheus(), trtllm.registry.contentType);
        return;
      case '/version':
        sendJson(res, 200, JSON.stringify({ version: SIM_TRTLLM_VERSION }));
        return;
    }
  }
  switch (path) {
    case '/health':
      res.writeHead(200, { 'content-length': 0 });
      res.end();
      return;
    case '/metrics': {
      const text = await ctx.metrics.render();
      sendJson(res, 200, text, ctx.metrics.contentType);
      return;
    }
    case '/v1/models':
      sendJson(res, 200, JSON.stringify(models(ctx)));
      return;
    case '/version':
      sendJson(res, 200, JSON.stringify({ version: SIM_VLLM_VERSION }));
      return;
    default:
      notFound(res);
  }
}

function fail(ctx: SimContext, res: ServerResponse, err: unknown): void {
  if (err instanceof SimError) {
    sendError(ctx, res, err);
    return;
  }
  // Anything unexpected is the simulator's bug: a 500, never a 400.
  process.stderr.write(`sim: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  sendError(ctx, res, new SimError(500, `Internal server error: ${(err as Error)?.message ?? String(err)}`, 'InternalServerError'));
}

function notFound(res: ServerResponse): void {
  sendJson(res, 404, '{"detail":"Not Found"}');
}

function methodNotAllowed(res: ServerResponse): void {
  sendJson(res, 405, '{"detail":"Method Not Allowed"}');
}

/** vLLM's ModelList / ModelCard / ModelPermission. */
function models(ctx: SimContext) {
  const { model, maxModelLen } = ctx.config;
  const created = Math.floor(Date.now() / 1000); // vLLM stamps cards per request
  return {
    object: 'list',
    data: [
      {
        id: model,
        object: 'model',
        created,
        owned_by: 'vllm',
        root: model,
        parent: null,
        max_model_len: maxModelLen,
        permission: [
          {
            id: `modelperm-${uuidHex()}`,
            object: 'model_permission',
            created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: '*',
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  };
}

/** POST /tokenize: {prompt} or {messages} → {count, max_model_len, tokens, token_strs}. */
function tokenize(ctx: SimContext, res: ServerResponse, body: Body): void {
  checkModel(body, ctx.config.model);
  let tokens: number[];
  if (Array.isArray(body.messages)) {
    if (body.prompt !== undefined) throw bad("Only one of 'prompt' or 'messages' should be provided.");
    let prompt: string;
    try {
      prompt = ctx.tokenizer.applyChatTemplate(parseMessages(body.messages), {
        tools: Array.isArray(body.tools) ? (body.tools as ChatTool[]) : undefined,
        addGenerationPrompt: optBool(body, 'add_generation_prompt') ?? true,
        templateKwargs: optObject(body, 'chat_template_kwargs'),
      });
    } catch (err) {
      if (err instanceof SimError) throw err;
      throw bad(`Error rendering the chat template: ${(err as Error).message}`);
    }
    tokens = ctx.tokenizer.encode(prompt, { addSpecialTokens: optBool(body, 'add_special_tokens') ?? false });
  } else if (typeof body.prompt === 'string') {
    tokens = ctx.tokenizer.encode(body.prompt, { addSpecialTokens: optBool(body, 'add_special_tokens') ?? true });
  } else {
    throw bad("Either 'prompt' or 'messages' must be provided.");
  }
  const tokenStrs = optBool(body, 'return_token_strs') ? tokens.map((id) => ctx.tokenizer.idToText(id)) : null;
  sendJson(res, 200, JSON.stringify({ count: tokens.length, max_model_len: ctx.config.maxModelLen, tokens, token_strs: tokenStrs }));
}

/** POST /detokenize: {tokens} → {prompt}. */
function detokenize(ctx: SimContext, res: ServerResponse, body: Body): void {
  checkModel(body, ctx.config.model);
  const tokens = body.tokens;
  if (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t) && t >= 0)) throw bad('tokens must be an array of token ids', 'tokens');
  sendJson(res, 200, JSON.stringify({ prompt: ctx.tokenizer.decode(tokens as number[], { skipSpecialTokens: false }) }));
}
