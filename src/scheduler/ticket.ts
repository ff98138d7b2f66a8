/** What the scheduler knows about a request: built once per request by the router, reused on fallback. */
import type { PriorityClass } from '../config/index.js';
import type { PrefixKey } from './placement/prefix-hash.js';

/** When the scheduler may count a request's prefill as done. */
export type PrefillEnd = 'first-byte' | 'estimate' | 'completion';

export interface Ticket {
  readonly id: string;
  /** Fair-share flow: the organization. */
  readonly flow: string;
  readonly weight: number;
  /** Fair-share cost (tokens). */
  readonly cost: number;
  readonly cls: PriorityClass;
  readonly promptTokens: number;
  readonly prefix: PrefixKey;
  /**
   * `first-byte` for streams (the dispatcher reports it); `estimate` for non-streamed generations (the
   * first token is not observable: prefill is counted done after the pool's recent time-to-first-token
   * per prompt token × this prompt); `completion` for embeddings (all prefill).
   */
  readonly prefillEnd: PrefillEnd;
}
