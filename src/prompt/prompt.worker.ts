/** Worker thread for large prompts: same counting code, off the gateway's event loop. */
import type { RequestBody } from '../validation/index.js';
import type { InferenceEndpoint } from '../runtimes/index.js';
import { TemplateError, countPromptTokens } from './prompt-counter.js';
import { loadTokenizer } from './tokenizer.js';
import type { TokenizerId } from '../config/index.js';

export interface CountTask {
  tokenizer: TokenizerId;
  endpoint: InferenceEndpoint;
  body: RequestBody;
  /** Shared with the main thread: set to 1 when the task starts, so a client that leaves after that does not kill the thread. */
  started: Int32Array;
}

/**
 * A template's refusal comes back as a value: an error crossing the thread boundary loses its class,
 * and the main thread must tell the request's fault (400) from a failure of ours (500). Anything else
 * thrown here rejects the task as it is.
 */
export type CountResult = { counts: number[] } | { templateError: string };

export default function count(task: CountTask): CountResult {
  Atomics.store(task.started, 0, 1);
  try {
    return { counts: countPromptTokens(loadTokenizer(task.tokenizer), task.endpoint, task.body) };
  } catch (err) {
    if (err instanceof TemplateError) return { templateError: err.message };
    throw err;
  }
}
