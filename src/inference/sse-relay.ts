/**
 * Relays an upstream SSE stream to the client chunk by chunk in OpenAI framing: rewrites `model` to the
 * name the client used, keeps the usage chunk only if the client asked for it, turns runtime error
 * events into OpenAI error events, and never ends a broken stream silently: an upstream that dies
 * mid-stream yields a terminal `data: {"error": ...}` event before the response ends.
 *
 * Back-pressure: a write the socket cannot take waits for 'drain'. A client that stops reading (its
 * socket buffer does not drain for `stallTimeoutMs`) is cut: the response is destroyed and the outcome
 * says `stalled`, so the pipeline aborts the upstream request, frees the pod slot and settles the quota
 * with the chunks relayed so far. Without this a client that stopped reading held its pod slot and its
 * (renewed) concurrency lease for as long as it kept the connection open.
 */
import type { ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { Clock } from '../clock/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import type { RuntimeAdapter } from '../runtimes/index.js';
import { classifyUpstreamError } from '../dispatch/index.js';
import type { Usage } from '../runtimes/index.js';

export interface RelayOptions {
  clientModel: string;
  /** The model name the runtime puts in its chunks (rewritten to `clientModel` when they differ). */
  upstreamModel: string;
  includeUsage: boolean;
  adapter: RuntimeAdapter;
  signal: AbortSignal;
  /** A client whose socket has not drained for this long is cut (`stalled`). */
  stallTimeoutMs: number;
  clock: Clock;
  /** Called once, when the first chunk is written to the client. */
  onFirstChunk(): void;
}

export interface RelayOutcome {
  usage?: Usage;
  /** Chunks that carried generated output: the completion-token estimate when usage never arrives. */
  outputChunks: number;
  completed: boolean;
  clientGone: boolean;
  /** The client stopped reading for the stall timeout and was cut (clientGone is set too). */
  stalled: boolean;
  error?: ApiError;
}

export async function relaySse(res: ServerResponse, first: Buffer, rest: AsyncIterator<Buffer>, opts: RelayOptions): Promise<RelayOutcome> {
  const outcome: RelayOutcome = { completed: false, clientGone: false, stalled: false, outputChunks: 0 };
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let firstWritten = false;

  const write = async (text: string): Promise<void> => {
    if (res.destroyed) return;
    if (!firstWritten) {
      firstWritten = true;
      opts.onFirstChunk();
    }
    if (!res.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          opts.clock.clearTimeout(timer);
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        const timer = opts.clock.setTimeout(() => {
          outcome.stalled = true;
          res.destroy();
          done();
        }, opts.stallTimeoutMs);
        res.on('drain', done);
        res.on('close', done);
      });
    }
  };

  const fail = async (error: ApiError): Promise<void> => {
    outcome.error = error;
    await write(`data: ${JSON.stringify(error.toBody())}\n\n`);
  };

  // Hot path: most chunks are plain deltas. They are relayed as text (the model name spliced in when
  // it differs) without JSON.parse/stringify; only the usage chunk and error events are parsed.
  const upstreamField = `"model":${JSON.stringify(opts.upstreamModel)}`;
  const clientField = `"model":${JSON.stringify(opts.clientModel)}`;
  const rename = upstreamField !== clientField;
  const fastPath = (data: string): string | undefined => {
    if (data.startsWith('{"error"') || data.includes('"object":"error"') || data.includes('"usage":{')) return undefined;
    if (!rename) return data;
    const at = data.indexOf(upstreamField);
    return at === -1 ? undefined : data.slice(0, at) + clientField + data.slice(at + upstreamField.length);
  };

  /** Handles one SSE event; returns false when the stream is over. */
  const handleEvent = async (event: string): Promise<boolean> => {
    let data = '';
    for (const line of event.split('\n')) {
      if (line.startsWith('data:')) data += line.slice(line[5] === ' ' ? 6 : 5);
    }
    if (!data) return true;
    if (data === '[DONE]') {
      outcome.completed = true;
      await write('data: [DONE]\n\n');
      return false;
    }
    const relayed = fastPath(data);
    if (relayed !== undefined) {
      outcome.outputChunks++;
      await write(`data: ${relayed}\n\n`);
      return true;
    }
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data);
      if (!chunk || typeof chunk !== 'object' || Array.isArray(chunk)) throw new Error('not an object');
    } catch {
      await fail(new ApiError(ErrorCode.UpstreamError, 'The inference server sent a malformed stream chunk.'));
      return false;
    }
    if (opts.adapter.isStreamError(chunk)) {
      const status = Number((chunk.error as { code?: unknown })?.code ?? chunk.code) || 500;
      await fail(opts.adapter.translateError(status, chunk));
      return false;
    }
    chunk.model = opts.clientModel;
    if (Array.isArray(chunk.choices) && chunk.choices.length > 0) outcome.outputChunks++;
    if (chunk.usage) {
      outcome.usage = chunk.usage as Usage;
      if (!opts.includeUsage) {
        if (Array.isArray(chunk.choices) && chunk.choices.length === 0) return true;
        delete chunk.usage;
      }
    } else if (!opts.includeUsage) {
      delete chunk.usage;
    }
    await write(`data: ${JSON.stringify(chunk)}\n\n`);
    return true;
  };

  let buffer: Buffer | undefined = first;
  try {
    while (true) {
      if (!buffer) {
        const next = await rest.next();
        if (next.done) break;
        buffer = next.value;
      }
      pending += decoder.write(buffer);
      buffer = undefined;
      let boundary: number;
      while ((boundary = pending.indexOf('\n\n')) !== -1) {
        const event = pending.slice(0, boundary);
        pending = pending.slice(boundary + 2);
        if (!(await handleEvent(event))) return outcome;
      }
      if (res.destroyed) {
        outcome.clientGone = true;
        return outcome;
      }
    }
    if (pending.trim() && !(await handleEvent(pending.trim()))) return outcome;
    await fail(new ApiError(ErrorCode.UpstreamStreamInterrupted, 'The inference server ended the stream before it was complete.'));
  } catch (err) {
    if (opts.signal.aborted || res.destroyed) {
      outcome.clientGone = true;
    } else {
      await fail(classifyUpstreamError(err, 'body').apiError);
    }
  }
  return outcome;
}
