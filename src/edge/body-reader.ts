/**
 * Reads a request body for Fastify's content-type parser, with the body limit enforced here rather than
 * by Fastify's `parseAs` reader. The difference is what happens to a body over the limit: Fastify
 * refuses at once and the connection is closed while the client is still writing, so the client's
 * kernel gets a reset and the client (the official SDK included) reports EPIPE or ECONNRESET instead of
 * reading the 413. Here the rest of an over-limit body is read and thrown away — up to `drainBytes`
 * beyond the limit, and no longer than the server's request timeout allows — and only then refused;
 * the 413 goes out with `connection: close` to a client that is ready to read it. A body declared (or
 * grown) beyond limit + drainBytes is refused at once: reading it would cost more than the answer is worth.
 */
import type { Readable } from 'node:stream';
import { errorCodes } from 'fastify';

export interface BodyLimits {
  /** Larger bodies are refused with 413. */
  limitBytes: number;
  /** How much more of a refused body is read and discarded before answering. */
  drainBytes: number;
}

/** The body as one Buffer, or FST_ERR_CTP_BODY_TOO_LARGE / FST_ERR_CTP_INVALID_CONTENT_LENGTH. */
export function readBody(payload: Readable, contentLength: string | undefined, limits: BodyLimits): Promise<Buffer> {
  const declared = contentLength === undefined ? Number.NaN : Number(contentLength);
  const bound = limits.limitBytes + limits.drainBytes;
  if (declared > bound) return Promise.reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = () => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += buffer.length;
      if (received > bound) {
        // Past what is worth reading: refuse now; the connection is closed after the answer.
        cleanup();
        payload.pause();
        reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      // Over the limit: keep reading, keep nothing.
      if (received > limits.limitBytes) chunks.length = 0;
      else chunks.push(buffer);
    };
    const onEnd = () => {
      cleanup();
      if (received > limits.limitBytes || declared > limits.limitBytes) reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      else if (!Number.isNaN(declared) && received !== declared) reject(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      else resolve(chunks.length === 1 ? Buffer.from(chunks[0]!) : Buffer.concat(chunks, received));
    };
    const onError = (err: Error & { statusCode?: number }) => {
      cleanup();
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      reject(err);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
}
