/**
 * POST /v1/completions (legacy text completions), shaped like vLLM's OpenAIServingCompletion:
 * prompt may be a string, an array of strings, an array of token ids or an array of token-id arrays;
 * choice indexes run prompt-major (prompt i, sample j → i·n + j); raw prompts get the BOS token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { contextLengthError } from './errors.js';
import { runGeneration, type GenerationJob } from './generation.js';
import { corkForTick, requestFaults, sendError, sendJson, sseDone, sseError, sseEvent, startSse, uuidHex } from './http.js';
import { choiceSeed, tokenLogprob, type OutputPlan } from './output.js';
import { bad, checkModel, optBool, optCacheSalt, optInt, parsePromptList, parseSampling, type Body } from './params.js';
import { hashIds } from './rng.js';

/** vLLM's completions endpoint caps `logprobs` at max_logprobs (20); OpenAI at 5. */
const MAX_COMPLETION_LOGPROBS = 20;

interface Sample {
  plan: OutputPlan;
  seed: number;
  promptText: string;
}

export function handleCompletions(ctx: SimContext, req: IncomingMessage, res: ServerResponse, body: Body, arrivalMs: number): void {
  checkModel(body, ctx.config.model);
  const sampling = parseSampling(body);
  const logprobs = optInt(body, 'logprobs', 0, MAX_COMPLETION_LOGPROBS);
  const echo = optBool(body, 'echo') ?? false;
  if (body.suffix !== undefined && body.suffix !== null) throw bad('suffix is not currently supported', 'suffix');
  const addSpecial = optBool(body, 'add_special_tokens') ?? true;
  const prompts = parsePromptList(body.prompt, 'prompt').map((p) =>
    typeof p === 'string' ? { ids: ctx.tokenizer.encode(p, { addSpecialTokens: addSpecial }), text: p } : { ids: p, text: ctx.tokenizer.decode(p) },
  );
  const faults = requestFaults(ctx, req);
  const cacheSalt = optCacheSalt(body);
  const { maxModelLen } = ctx.config;
  const samples: Sample[] = [];
  const jobs: GenerationJob[] = [];
  // vLLM's CompletionRequest defaults max_tokens to 16 (chat defaults to the rest of the context).
  const maxTokens = sampling.maxTokens ?? 16;
  for (const prompt of prompts) {
    if (prompt.ids.length === 0) throw bad('Prompt cannot be empty', 'prompt');
    if (prompt.ids.length >= maxModelLen || prompt.ids.length + maxTokens > maxModelLen) {
      throw contextLengthError(maxModelLen, prompt.ids.length, maxTokens, ctx.config.flavor);
    }
    const limits = { maxTokens, minTokens: sampling.minTokens, ignoreEos: sampling.ignoreEos, stop: sampling.stop };
    const promptHash = hashIds(prompt.ids);
    for (let j = 0; j < sampling.n; j++) {
      const seed = choiceSeed({ serverSeed: ctx.config.seed, promptHash, seed: sampling.seed, temperature: sampling.temperature, index: j });
      const plan = ctx.vocab.proseOutput(seed, limits);
      samples.push({ plan, seed, promptText: prompt.text });
      jobs.push({ promptIds: prompt.ids, cacheSalt, plan, countsPrompt: j === 0 });
    }
  }

  const id = `cmpl-${uuidHex()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = ctx.config.model;
  const logprobsFor = (s: Sample, from: number, to: number, offset: number) => (logprobs === undefined ? null : completionLogprobs(ctx, s, from, to, offset, logprobs));

  if (!sampling.stream) {
    runGeneration(ctx, res, arrivalMs, jobs, faults, {
      onToken() {},
      onError: (err) => sendError(ctx, res, err),
      onDone: (usage) => {
        const choices = samples.map((s, index) => ({
          index,
          text: (echo ? s.promptText : '') + s.plan.text,
          logprobs: logprobsFor(s, 0, s.plan.ids.length, echo ? s.promptText.length : 0),
          finish_reason: s.plan.finishReason,
          stop_reason: s.plan.stopReason,
        }));
        sendJson(res, 200, JSON.stringify({ id, object: 'text_completion', created, model, choices, usage }));
      },
    });
    return;
  }

  startSse(res);
  const head = `{"id":"${id}","object":"text_completion","created":${created},"model":${JSON.stringify(model)},"choices":[`;
  const offsets = samples.map((s) => (echo ? s.promptText.length : 0));
  const echoed = samples.map(() => !echo);
  runGeneration(ctx, res, arrivalMs, jobs, faults, {
    onToken(job, t) {
      corkForTick(res);
      const s = samples[job];
      let text = s.plan.pieces[t];
      if (!echoed[job]) {
        echoed[job] = true;
        text = s.promptText + text;
      }
      const last = t === s.plan.ids.length - 1;
      const lp = logprobsFor(s, t, t + 1, offsets[job]);
      offsets[job] += s.plan.pieces[t].length;
      const finish = last ? `"finish_reason":"${s.plan.finishReason}","stop_reason":${JSON.stringify(s.plan.stopReason)}` : '"finish_reason":null';
      sseEvent(res, `${head}{"index":${job},"text":${JSON.stringify(text)},"logprobs":${JSON.stringify(lp)},${finish}}]}`);
    },
    onError: (err) => sseError(ctx, res, err),
    onDone(usage) {
      corkForTick(res);
      if (sampling.includeUsage) sseEvent(res, `${head}],"usage":${JSON.stringify(usage)}}`);
      sseDone(res);
    },
  });
}

function completionLogprobs(ctx: SimContext, s: Sample, from: number, to: number, startOffset: number, k: number) {
  const out = { text_offset: [] as number[], token_logprobs: [] as number[], tokens: [] as string[], top_logprobs: [] as Array<Record<string, number>> };
  let offset = startOffset;
  for (let t = from; t < to; t++) {
    const lp = tokenLogprob(ctx.vocab, s.seed, t, s.plan.ids[t], Math.max(k, 1));
    out.tokens.push(ctx.tokenizer.idToText(s.plan.ids[t]));
    out.token_logprobs.push(lp.logprob);
    const top: Record<string, number> = {};
    for (const alt of lp.top.slice(0, k)) top[ctx.tokenizer.idToText(alt.id)] = alt.logprob;
    out.top_logprobs.push(top);
    out.text_offset.push(offset);
    offset += s.plan.pieces[t].length;
  }
  return out;
}
