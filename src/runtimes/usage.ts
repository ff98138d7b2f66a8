/** Token usage as OpenAI reports it (and the runtime reports it to us). */
export interface Usage {
  prompt_tokens: number;
  completion_tokens?: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}
