/**
 * A body over SWITCHYARD_BODY_LIMIT_BYTES is answered 413 in OpenAI's error shape, and the client gets
 * to read that answer: the gateway reads and discards the rest of the upload (up to a bound) before it
 * closes the connection, instead of closing while the client is still writing (which the official SDK
 * reported as EPIPE / ECONNRESET).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { assertMatchesSchema } from '../support/openai-schema.js';
import { type TenancyGateway, bootTenancyGateway, createTenant } from '../tenancy/support.js';

const MiB = 1024 * 1024;
let t: TenancyGateway;
let apiKey: string;

before(async () => {
  // The production default limit (8 MiB); the drain bound is set low to test what lies beyond it.
  t = await bootTenancyGateway({ env: { SWITCHYARD_BODY_DRAIN_BYTES: String(16 * MiB) } });
  apiKey = (await createTenant(t)).inferenceKey;
});
after(async () => {
  await t?.close();
});

/** Writes `head` then `bodyBytes` of filler on a raw socket; resolves with everything read back. */
function rawUpload(head: string, bodyBytes: number, chunked: boolean): Promise<{ text: string; wroteAll: boolean; error?: string }> {
  const { hostname, port } = new URL(t.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    let text = '';
    let wroteAll = false;
    let error: string | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (d) => (text += d));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code));
    socket.on('close', () => resolve({ text, wroteAll, error }));
    socket.on('connect', async () => {
      socket.write(head);
      const chunk = Buffer.alloc(256 * 1024, 'a');
      for (let sent = 0; sent < bodyBytes && !socket.destroyed; sent += chunk.length) {
        const piece = chunk.subarray(0, Math.min(chunk.length, bodyBytes - sent));
        const ok = socket.write(chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece);
        if (!ok) await new Promise((r) => socket.once('drain', r).once('close', r));
      }
      if (socket.destroyed) return;
      if (chunked) socket.write('0\r\n\r\n');
      wroteAll = true;
    });
  });
}

describe('request body limit', () => {
  it('answers an 11 MB chat request from the official SDK with 413 request_too_large, not a broken pipe', async () => {
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });
    const err = await client.chat.completions.create({ model: t.models.chat, messages: [{ role: 'user', content: 'x'.repeat(11 * MiB) }] }).then(
      () => assert.fail('an 11 MB body was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.APIError, `expected an API error, got ${String(err)}`);
    assert.equal(err.status, 413, String(err));
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.code, 'request_too_large');
    assert.match(String(err.headers?.get('x-request-id')), /^req_/);
  });

  it('reads a declared 11 MB body to its end before answering 413, so a client that writes first and reads after gets the answer', async () => {
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${11 * MiB}\r\n\r\n`;
    const res = await rawUpload(head, 11 * MiB, false);
    assert.ok(res.wroteAll, `the connection was closed (${res.error}) while the client was still writing`);
    assert.match(res.text, /^HTTP\/1\.1 413 /, res.text.slice(0, 200));
    assert.equal(JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4)).error.code, 'request_too_large');
  });

  it('answers a chunked upload that grows past the limit with 413 once it has been read, on the admin API too', async () => {
    for (const path of ['/v1/chat/completions', '/admin/v1/organizations']) {
      const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const res = await rawUpload(head, 10 * MiB, true);
      assert.ok(res.wroteAll, `the upload was cut (${res.error}) before the client finished writing`);
      assert.match(res.text, /^HTTP\/1\.1 413 /, res.text.slice(0, 200));
      assert.match(res.text, /connection: close/i, 'the connection is not reused after a refused body');
      const body = JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4));
      assertMatchesSchema('ErrorResponse', body);
      assert.equal(body.error.code, 'request_too_large');
    }
  });

  it('does not read more than the drain bound: a declared body beyond it is answered 413 and the connection closed', async () => {
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${64 * MiB}\r\n\r\n`;
    const res = await rawUpload(head, 64 * MiB, false);
    assert.ok(!res.wroteAll, 'the gateway read a 64 MiB body it had refused');
    // The answer may or may not reach a client still writing; the connection must end either way.
    if (res.text) assert.match(res.text, /^HTTP\/1\.1 413 /);
  });
});
