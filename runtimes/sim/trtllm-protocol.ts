/**
 * trtllm-serve's request models refuse fields they do not declare (pydantic `extra="forbid"` on
 * OpenAIBaseModel, tensorrt_llm/serve/openai_protocol.py), answering 400 `{"error": "<pydantic text>"}`.
 * The field lists below are ChatCompletionRequest's and CompletionRequest's (TensorRT-LLM main, 2026);
 * `--flavor trtllm` checks top-level fields against them, and `stream_options` without `stream: true`
 * as its model validator does. Nested objects are not checked.
 */
import { SimError } from './errors.js';

const COMMON = [
  'model', 'frequency_penalty', 'logit_bias', 'logprobs', 'n', 'presence_penalty', 'response_format', 'seed', 'stop', 'stream',
  'stream_options', 'temperature', 'top_p', 'user', 'prompt_ignore_length', 'best_of', 'use_beam_search', 'top_k', 'top_p_min',
  'min_p', 'repetition_penalty', 'length_penalty', 'early_stopping', 'stop_token_ids', 'include_stop_str_in_output', 'ignore_eos',
  'min_tokens', 'skip_special_tokens', 'spaces_between_special_tokens', 'truncate_prompt_tokens', 'lora_request', 'echo',
  'add_special_tokens', 'disaggregated_params', 'conversation_params', 'priority', 'thinking_token_budget',
];

const FIELDS: Record<string, { model: string; fields: ReadonlySet<string> }> = {
  '/v1/chat/completions': {
    model: 'ChatCompletionRequest',
    fields: new Set([
      ...COMMON, 'messages', 'prompt_token_ids', 'prompt_token_ids_b64', 'top_logprobs', 'max_completion_tokens', 'max_tokens', 'tools',
      'tool_choice', 'parallel_tool_calls', 'reasoning_effort', 'thinking', 'add_generation_prompt', 'documents', 'chat_template',
      'chat_template_kwargs', 'injected_chat_template_kwargs', 'media_io_kwargs', 'cache_salt', 'agent_hierarchy', 'mm_processor_kwargs',
    ]),
  },
  '/v1/completions': {
    model: 'CompletionRequest',
    fields: new Set([...COMMON, 'prompt', 'max_tokens', 'suffix', 'return_context_logits', 'detokenize']),
  },
};

/** Throws trtllm-serve's validation error for a body its request model would refuse. */
export function checkTrtllmRequest(path: string, body: Record<string, unknown>): void {
  const spec = FIELDS[path];
  if (!spec) return;
  const extra = Object.keys(body).filter((k) => !spec.fields.has(k));
  if (extra.length) {
    const lines = extra.map((k) => `${k}\n  Extra inputs are not permitted [type=extra_forbidden, input_value=${JSON.stringify(body[k])}, input_type=${typeof body[k]}]`);
    throw new SimError(400, `${extra.length} validation error${extra.length > 1 ? 's' : ''} for ${spec.model}\n${lines.join('\n')}`, 'BadRequestError', null, true);
  }
  if (body.stream_options && body.stream !== true) {
    throw new SimError(400, `1 validation error for ${spec.model}\n  Value error, Stream options can only be defined when stream is true.`, 'BadRequestError', null, true);
  }
}
