/**
 * Workloads for the scheduling benchmark, deterministic from a seed.
 *
 * `multi-turn`: chat conversations as a product would send them. Every conversation belongs to one of
 * a few applications, each with its own long system prompt (shared by all of its conversations); the
 * first user turn pastes a document (unique to the conversation), later turns are short follow-ups.
 * Each request carries the whole conversation so far, the assistant's real answers included, so a
 * conversation's requests share an ever longer prefix, and all conversations of an application share
 * the system prompt.
 *
 * `unique`: single requests of the same sizes whose prompts share nothing (each starts with its own
 * random text), the control for "prefix-aware routing costs nothing when there is nothing to share".
 *
 * Text is drawn from a word list of common English words: about one Llama-3 token per word.
 */

export interface WorkloadSpec {
  kind: 'multi-turn' | 'unique';
  seed: number;
  /** Applications (distinct system prompts) and the system prompt length in words. */
  apps: number;
  systemWords: number;
  /** Words of the document pasted in the first turn. */
  documentWords: [number, number];
  /** User turns per conversation. */
  turns: [number, number];
  /** Words of a follow-up question. */
  followUpWords: [number, number];
  /** Output tokens per answer (max_tokens with ignore_eos: exact). */
  outputTokens: [number, number];
  /** Conversations in progress to aim for (the generator opens new ones as others end). */
  activeConversations: number;
}

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all would ' +
  'their we him can has more when will no if out so said what up its about into than them only other time new some could these two may first then do ' +
  'any like my now over such our man me even most made after also did many before must through back years where much your way well down should because ' +
  'each just those people how too little state good very make world still own see men work long get here between both life being under never day same ' +
  'another know while last might us great old year off come since against go came right used take three yard train signal wagon track freight engine ' +
  'station coupler brake switch rail crew shift schedule route cargo platform depot junction siding load weight speed order report check'
).split(' ');

/** mulberry32: small, fast, seedable. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  exp(rate: number): number {
    return -Math.log(1 - this.next()) / rate;
  }
}

function text(rng: Rng, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[rng.int(0, WORDS.length - 1)]);
  return out.join(' ');
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export class Conversation {
  readonly messages: ChatMessage[];
  turn = 0;
  inFlight = false;

  constructor(
    readonly id: number,
    readonly app: number,
    system: string,
    readonly turns: number,
    private readonly rng: Rng,
    private readonly spec: WorkloadSpec,
    document: string,
  ) {
    this.messages = [
      { role: 'system', content: system },
      { role: 'user', content: `Here is the document:\n\n${document}\n\nSummarise what matters for the next shift.` },
    ];
  }

  get done(): boolean {
    return this.turn >= this.turns;
  }

  /** The next request's body (the conversation so far). */
  body(model: string): Record<string, unknown> {
    const maxTokens = this.rng.int(this.spec.outputTokens[0], this.spec.outputTokens[1]);
    return { model, messages: this.messages.slice(), max_tokens: maxTokens, ignore_eos: true, stream: true, stream_options: { include_usage: true } };
  }

  /** A request on the same history with a different last question (not continued). */
  branch(model: string): Record<string, unknown> {
    const body = this.body(model);
    const messages = body.messages as ChatMessage[];
    messages[messages.length - 1] = { role: 'user', content: `${text(this.rng, this.rng.int(this.spec.followUpWords[0], this.spec.followUpWords[1]))}?` };
    return body;
  }

  /** Appends the assistant's answer and the next question. */
  answered(answer: string): void {
    this.turn++;
    this.messages.push({ role: 'assistant', content: answer });
    this.messages.push({ role: 'user', content: `${text(this.rng, this.rng.int(this.spec.followUpWords[0], this.spec.followUpWords[1]))}?` });
  }
}

export interface NextRequest {
  /** The conversation to report the answer to (absent for unique prompts and branches). */
  conversation?: Conversation;
  body: Record<string, unknown>;
}

export class WorkloadGenerator {
  private readonly rng: Rng;
  private readonly systems: string[];
  private readonly active: Conversation[] = [];
  /** Conversations waiting for their next turn, longest idle first. */
  private readonly idle: Conversation[] = [];
  private nextId = 0;
  private branchCursor = 0;

  constructor(
    readonly spec: WorkloadSpec,
    private readonly model: string,
  ) {
    this.rng = new Rng(spec.seed);
    const sysRng = new Rng(spec.seed ^ 0x5eed);
    this.systems = Array.from({ length: spec.apps }, (_, i) => `You are assistant #${i} of the rail yard operations desk. ${text(sysRng, spec.systemWords)}`);
  }

  /** The next request to send: a turn of an idle conversation (multi-turn) or a fresh prompt (unique). */
  next(): NextRequest {
    if (this.spec.kind === 'unique') {
      const words = this.rng.int(this.spec.documentWords[0], this.spec.documentWords[1]) + this.spec.systemWords;
      const nonce = Math.floor(this.rng.next() * 1e12).toString(36);
      const maxTokens = this.rng.int(this.spec.outputTokens[0], this.spec.outputTokens[1]);
      return {
        body: {
          model: this.model,
          messages: [{ role: 'user', content: `${nonce} ${text(this.rng, words)}` }],
          max_tokens: maxTokens,
          ignore_eos: true,
          stream: true,
          stream_options: { include_usage: true },
        },
      };
    }
    // A stationary mix whatever the load: a request opens a new conversation with probability 1/turns
    // (steered towards `activeConversations` in progress), else continues the conversation idle the
    // longest. When every conversation is waiting for an answer (high load), it branches the one
    // waiting longest: same history, a different last question (a user who did not wait). Opening a
    // new conversation then instead would turn an overload into a flood of first turns.
    const meanTurns = (this.spec.turns[0] + this.spec.turns[1]) / 2;
    const pOpen = (1 / meanTurns) * Math.min(2, Math.max(0.5, this.spec.activeConversations / Math.max(1, this.active.length)));
    if (this.active.length === 0 || this.rng.next() < pOpen) {
      const conversation = this.open();
      this.active.push(conversation);
      conversation.inFlight = true;
      return { conversation, body: conversation.body(this.model) };
    }
    const idle = this.idle.shift();
    if (idle) {
      idle.inFlight = true;
      return { conversation: idle, body: idle.body(this.model) };
    }
    const busy = this.active[this.branchCursor++ % this.active.length];
    return { body: busy.branch(this.model) };
  }

  /** Reports the answer (or undefined on failure: the conversation ends). */
  finished(conversation: Conversation | undefined, answer: string | undefined): void {
    if (!conversation) return;
    conversation.inFlight = false;
    if (answer === undefined) conversation.turn = conversation.turns;
    else conversation.answered(answer);
    if (conversation.done) {
      const at = this.active.indexOf(conversation);
      if (at !== -1) this.active.splice(at, 1);
    } else {
      this.idle.push(conversation);
    }
  }

  private open(): Conversation {
    const app = this.rng.int(0, this.spec.apps - 1);
    const turns = this.rng.int(this.spec.turns[0], this.spec.turns[1]);
    const document = text(this.rng, this.rng.int(this.spec.documentWords[0], this.spec.documentWords[1]));
    return new Conversation(this.nextId++, app, this.systems[app], turns, new Rng(this.rng.int(1, 2 ** 31)), this.spec, document);
  }
}
