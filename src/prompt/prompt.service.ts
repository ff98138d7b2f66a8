/**
 * The prompt stage: exact prompt token counts (the model's own chat template and tokenizer, as vLLM
 * applies them) and the context-window check, before any GPU sees the request.
 *
 * Tokenizing is pure JavaScript at ~2–3 µs per token: a 100k-token prompt would block the event loop
 * (and every stream it serves) for a quarter of a second. Bodies over `prompt.offloadBytes` are counted
 * in a worker thread (Piscina); smaller ones inline, where a worker round trip would cost more than
 * the work. bench/prompt measures both.
 *
 * Only a chat template that refuses the messages is the client's fault (400). A worker thread that
 * dies or throws, or any other failure while counting, is ours: it escapes as is and the edge answers
 * 500 `server_error`, logged with the request id. Not 503: Piscina replaces a dead thread for the next
 * task, but the same request would most likely fail the same way, so a retry-after would mislead.
 */
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import { Piscina } from 'piscina';
import { APP_CONFIG, type AppConfig, type TokenizerId } from '../config/index.js';
import type { CatalogModel } from '../catalog/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import type { InferenceEndpoint } from '../runtimes/index.js';
import type { RequestBody } from '../validation/index.js';
import { TemplateError, countPromptTokens } from './prompt-counter.js';
import { loadTokenizer } from './tokenizer.js';
import type { CountResult, CountTask } from './prompt.worker.js';

const WORKER = new URL('./prompt.worker.js', import.meta.url);

/** What later stages need: quota reserves `promptTokens + maxOutputTokens`; metering compares usage. */
export interface PromptPlan {
  /** Sum over the request's prompts. */
  promptTokens: number;
  /** Upper bound of tokens the request can generate (all prompts, all `n` choices or `best_of` candidates). */
  maxOutputTokens: number;
  /** The body to send upstream (with a max_tokens bound added when the client set none). */
  body: RequestBody;
}

/** Completions default to 16 output tokens (OpenAI and vLLM). */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

@Injectable()
export class PromptService implements OnModuleInit, OnApplicationShutdown {
  private readonly pool: Piscina;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    /** The worker module (tests substitute one that crashes). */
    @Optional() worker: URL = WORKER,
  ) {
    // Threads start on the first large prompt (each loads its own tokenizers, ~175 MiB apiece), so a
    // gateway that never sees one does not pay for them.
    this.pool = new Piscina({
      filename: worker.href,
      minThreads: 0,
      maxThreads: config.prompt.workers,
      idleTimeout: 10 * 60_000,
    });
  }

  /** Loads every catalogue tokenizer once on the main thread, so no request pays for it. */
  /** Loads the configured models' tokenizers at start-up, so no request pays for it. */
  onModuleInit(): void {
    this.warm(this.config.catalogue.models);
  }

  warm(models: readonly Pick<CatalogModel, 'tokenizer'>[]): void {
    for (const id of new Set(models.map((m) => m.tokenizer as TokenizerId))) loadTokenizer(id);
  }

  /** `signal`: the client left; a prompt still waiting for a worker thread leaves the queue at once. */
  async plan(endpoint: InferenceEndpoint, body: RequestBody, model: CatalogModel, bodyBytes: number, signal?: AbortSignal): Promise<PromptPlan> {
    const tokenizer = model.tokenizer as TokenizerId;
    let counts: number[];
    try {
      counts = bodyBytes > this.config.prompt.offloadBytes ? fromWorker(await this.offload({ tokenizer, endpoint, body }, signal)) : countPromptTokens(loadTokenizer(tokenizer), endpoint, body);
    } catch (err) {
      if (err instanceof TemplateError) {
        throw new ApiError(ErrorCode.InvalidRequest, `The messages could not be rendered with this model's chat template: ${err.message}`, 'messages');
      }
      throw err;
    }
    const promptTokens = counts.reduce((a, b) => a + b, 0);
    const window = model.contextWindow;
    let longest = 0;
    for (const c of counts) if (c > longest) longest = c;

    if (endpoint === 'embeddings') {
      if (longest > window) {
        throw new ApiError(
          ErrorCode.ContextLengthExceeded,
          `This model's maximum context length is ${window} tokens, however you requested ${longest} tokens in one input. Please reduce your input.`,
          'input',
        );
      }
      return { promptTokens, maxOutputTokens: 0, body };
    }

    // Sequences per prompt the runtime generates: `n`, or the `best_of` candidates it ranks (validated ≥ n).
    const n = Math.max((body.n as number | null | undefined) ?? 1, (body.best_of as number | null | undefined) ?? 1);
    const requested = (endpoint === 'chat.completions' ? (body.max_completion_tokens ?? body.max_tokens) : (body.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS)) as number | null | undefined;
    const param = endpoint === 'chat.completions' ? 'messages' : 'prompt';
    if (requested != null) {
      const cap = model.maxOutputTokens;
      if (cap !== null && requested > cap) {
        const name = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
        throw new ApiError(ErrorCode.InvalidValue, `${name} is too large: ${requested}. This model supports at most ${cap} completion tokens.`, name);
      }
      if (longest + requested > window) {
        throw new ApiError(
          ErrorCode.ContextLengthExceeded,
          `This model's maximum context length is ${window} tokens. However, you requested ${longest + requested} tokens (${longest} in the ${param === 'messages' ? 'messages' : 'prompt'}, ${requested} in the completion). Please reduce the length of the ${param === 'messages' ? 'messages' : 'prompt'} or completion.`,
          param,
        );
      }
      // max_tokens 0 (completions: the spec's minimum) asks for the prompt back without a completion
      // (with echo); vLLM still runs one decode step per sequence for it, so one token each is reserved.
      return { promptTokens, maxOutputTokens: Math.max(requested, 1) * n * counts.length, body };
    }
    // No bound given (chat): the room left in the window, capped by the model's output limit, is
    // passed upstream so the runtime and the quota agree on the worst case.
    const room = window - longest;
    if (room < 1) {
      throw new ApiError(
        ErrorCode.ContextLengthExceeded,
        `This model's maximum context length is ${window} tokens. However, your messages resulted in ${longest} tokens, which leaves no room for a completion. Please reduce the length of the messages.`,
        param,
      );
    }
    const bound = Math.min(room, model.maxOutputTokens ?? room);
    return { promptTokens, maxOutputTokens: bound * n, body: { ...body, max_tokens: bound } };
  }

  /**
   * Counts in a worker thread. The queue is bounded (`prompt.queueMax`): when it is full the request is
   * refused with 503 server_overloaded and retry-after — the replica is busy, the client is within its
   * limits (per-tenant shares are the admission step's business), and another replica may have room.
   * A client that leaves takes its task out of the queue; a task already running is left to finish
   * (Piscina would terminate the thread, and a new one must load its tokenizers again, which costs more
   * than the rest of the count), and its result is dropped.
   */
  private async offload(task: Omit<CountTask, 'started'>, signal?: AbortSignal): Promise<CountResult> {
    signal?.throwIfAborted();
    // Checked here, not with Piscina's maxQueue: Piscina keeps tasks that carry an AbortSignal in a
    // second queue its maxQueue check does not look at (queueSize counts both).
    if (this.pool.queueSize >= this.config.prompt.queueMax) {
      throw new ApiError(ErrorCode.ServerOverloaded, 'This server is busy counting other large prompts. Please retry shortly.', null, { 'retry-after': '1' });
    }
    const started = new Int32Array(new SharedArrayBuffer(4));
    const whileQueued = new AbortController();
    const leave = () => {
      if (Atomics.load(started, 0) === 0) whileQueued.abort(signal!.reason);
    };
    signal?.addEventListener('abort', leave, { once: true });
    try {
      const result = (await this.pool.run({ ...task, started } satisfies CountTask, { signal: whileQueued.signal })) as CountResult;
      signal?.throwIfAborted();
      return result;
    } finally {
      signal?.removeEventListener('abort', leave);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }
}

function fromWorker(result: CountResult): number[] {
  if ('templateError' in result) throw new TemplateError(result.templateError);
  return result.counts;
}
