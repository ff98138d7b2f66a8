/** Worker thread for large prompts: same counting code, off the gateway's event loop. */
import type { TokenizerId } from '../config/index.js';
import type { RequestBody } from '../validation/index.js';
import type { InferenceEndpoint } from '../runtimes/index.js';
import { countPromptTokens } from './prompt-counter.js';
import { loadTokenizer } from './tokenizer.js';

export interface CountTask {
  tokenizer: TokenizerId;
  endpoint: InferenceEndpoint;
  body: RequestBody;
}

export default function count(task: CountTask): number[] {
  return countPromptTokens(loadTokenizer(task.tokenizer), task.endpoint, task.body);
}
