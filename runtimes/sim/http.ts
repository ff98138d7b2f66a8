/** Small HTTP helpers shared by the endpoint handlers: JSON and SSE writing, errors, fault lookup. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { errorBody, SimError, streamErrorBody } from './errors.js';
import { FaultHeaderError, type RequestFaults } from './faults.js';

export function uuidHex(): string {
  return randomUUID().replace(/-/g, '');
}

export function sendJson(res: ServerResponse, status: number, json: string, contentType = 'application/json'): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

export function sendError(ctx: SimContext, res: ServerResponse, err: SimError): void {
  if (res.headersSent) {
    // A stream already started: report the failure in-band, as vLLM does.
    sseError(ctx, res, err);
    return;
  }
  sendJson(res, err.status, errorBody(err, ctx.config.errorShape, ctx.config.flavor));
}

/** Headers are flushed immediately (Starlette's StreamingResponse does the same before the body). */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
  res.flushHeaders();
}

/**
 * Batches the writes of this tick (role + first token, last token + usage + [DONE]) into one
 * socket write: per-chunk syscalls dominate the simulator's CPU time when streaming.
 */
export function corkForTick(res: ServerResponse): void {
  if (res.writableCorked > 0 || res.writableEnded) return;
  res.cork();
  process.nextTick(uncork, res);
}

function uncork(res: ServerResponse): void {
  res.uncork();
}

export function sseEvent(res: ServerResponse, json: string): void {
  if (!res.writableEnded) res.write(`data: ${json}\n\n`);
}

export function sseDone(res: ServerResponse): void {
  if (!res.writableEnded) res.end('data: [DONE]\n\n');
}

/**
 * A mid-stream failure: one `data:` event with the error object, then `data: [DONE]` (vLLM);
 * trtllm-serve's stream generator re-raises, which aborts the response: no event, no `[DONE]`.
 */
export function sseError(ctx: SimContext, res: ServerResponse, err: SimError): void {
  if (ctx.config.flavor === 'trtllm') {
    res.destroy();
    return;
  }
  sseEvent(res, streamErrorBody(err, ctx.config.errorShape));
  sseDone(res);
}

/** This request's faults; an injected up-front error is thrown as the SimError to answer with. */
export function requestFaults(ctx: SimContext, req: IncomingMessage): RequestFaults {
  let faults: RequestFaults;
  try {
    faults = ctx.faults.forRequest(req.headers['x-sim-fault']);
  } catch (err) {
    if (err instanceof FaultHeaderError) throw new SimError(400, err.message, 'BadRequestError', 'x-sim-fault');
    throw err;
  }
  if (faults.errorStatus !== undefined) {
    throw new SimError(faults.errorStatus, `Simulated fault: injected ${faults.errorStatus} error`);
  }
  return faults;
}

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Reads the request body; rejects with 413 past MAX_BODY_BYTES. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new SimError(413, `Request body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
