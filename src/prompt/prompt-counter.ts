/**
 * Counts prompt tokens exactly as vLLM does: chat messages rendered through the model's chat template
 * (tools included, generation prompt added) and tokenized without extra special tokens; raw completion
 * prompts tokenized with them (BOS); token-id prompts counted as given. Pure, so it runs inline or in a
 * worker thread.
 */
import type { RequestBody } from '../validation/index.js';
import type { InferenceEndpoint } from '../runtimes/index.js';
import type { ChatMessage, ChatTool, ModelTokenizer } from './tokenizer.js';

/**
 * The model's chat template refused to render the request's messages (e.g. `raise_exception` on a
 * role order it forbids): the request's fault. Any other error while counting is ours.
 */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Token count of each prompt in the request (chat has one; completions and embeddings may have many). */
export function countPromptTokens(tokenizer: ModelTokenizer, endpoint: InferenceEndpoint, body: RequestBody): number[] {
  if (endpoint === 'chat.completions') {
    let text: string;
    try {
      text = tokenizer.applyChatTemplate(body.messages as ChatMessage[], {
        tools: (body.tools as ChatTool[] | undefined) ?? undefined,
        addGenerationPrompt: (body.add_generation_prompt as boolean | undefined) ?? true,
        templateKwargs: body.chat_template_kwargs as Record<string, unknown> | undefined,
      });
    } catch (err) {
      throw new TemplateError((err as Error)?.message ?? String(err));
    }
    return [tokenizer.encode(text, { addSpecialTokens: false }).length];
  }
  const input = endpoint === 'completions' ? body.prompt : body.input;
  return promptList(input).map((p) => (typeof p === 'string' ? tokenizer.encode(p, { addSpecialTokens: true }).length : p.length));
}

/** string | string[] | number[] | number[][] → a list of prompts. */
function promptList(input: unknown): Array<string | number[]> {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return [];
  if (typeof input[0] === 'number') return [input as number[]];
  return input as Array<string | number[]>;
}
