/**
 * Time limits at the edge. A client that sends headers and part of a body (or never finishes its
 * headers) is answered 408 in OpenAI's shape and disconnected once the request timeout passes, before
 * authentication; a streaming client that stops reading is cut after the stall timeout, and its pod
 * slot, its concurrency lease and its token reservation are given back (settled with what was
 * generated). Real gateway, real simulator pods, real Redis; every wait is on a condition.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RedisService } from '../../src/redis/index.js';
import { eventually, sample } from '../support/eventually.js';
import { type TestGateway, bootGateway } from '../support/harness.js';

const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1_000;
const STALL_TIMEOUT_MS = 1_000;
let g: TestGateway;

before(async () => {
  g = await bootGateway(undefined, {
    SWITCHYARD_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    SWITCHYARD_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    SWITCHYARD_STREAM_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS),
    // One test slows the pod's answer with x-sim-fault, which is forwarded only when this is on.
    SWITCHYARD_SIM_FAULT_INJECTION: 'true',
  });
});
after(async () => {
  await g?.close();
});

function connect(): net.Socket {
  const { hostname, port } = new URL(g.url);
  return net.connect(Number(port), hostname);
}

/** Resolves with what the server sent once it closes the connection; fails if it has not within `boundMs`. */
async function closedWithin(socket: net.Socket, boundMs: number): Promise<{ text: string; elapsedMs: number }> {
  const started = performance.now();
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d) => (text += d));
  socket.on('error', () => undefined);
  const timer = setTimeout(() => socket.destroy(new Error('still open')), boundMs);
  const closed = once(socket, 'close');
  await closed;
  clearTimeout(timer);
  const elapsedMs = performance.now() - started;
  assert.ok(elapsedMs < boundMs, `the gateway held the connection open for ${Math.round(elapsedMs)} ms`);
  return { text, elapsedMs };
}

function assertTimeoutAnswer(text: string) {
  assert.match(text, /^HTTP\/1\.1 408 /, text.slice(0, 200));
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
  assert.deepEqual([body.error.type, body.error.code], ['invalid_request_error', 'request_timeout']);
}

describe('edge time limits', () => {
  it('answers 408 and closes a connection that sent headers and part of a body, without authenticating', async () => {
    const socket = connect();
    await once(socket, 'connect');
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":');
    const { text } = await closedWithin(socket, REQUEST_TIMEOUT_MS + 5_000);
    assertTimeoutAnswer(text);
  });

  it('answers 408 and closes a connection whose headers never end', async () => {
    const socket = connect();
    await once(socket, 'connect');
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const { text } = await closedWithin(socket, REQUEST_TIMEOUT_MS + 5_000);
    assertTimeoutAnswer(text);
  });

  it('closes a connection that never sends a byte, without an answer', async () => {
    const socket = connect();
    await once(socket, 'connect');
    const { text } = await closedWithin(socket, REQUEST_TIMEOUT_MS + 5_000);
    // A 408 on a connection that sent nothing would be read as the answer to a request written on it
    // at that moment.
    assert.equal(text, '');
  });

  it('answers a request that arrived while the replica was too busy to read it past the headers timeout (no 408 for bytes never read)', async () => {
    // The soak's 408s: the connection is accepted, the client writes its whole request, and the
    // replica's loop stalls past the headers timeout before reading it; Node's check (a timer) runs
    // before the read and reports the connection as one that never sent a byte.
    const server = g.gateway.app.getHttpAdapter().getHttpServer() as Server;
    const accepted = once(server, 'connection');
    const socket = connect();
    await Promise.all([accepted, once(socket, 'connect')]);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (text += d));
    socket.on('error', () => undefined);
    const closed = once(socket, 'close');
    socket.write(`GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${g.apiKey}\r\nConnection: close\r\n\r\n`);
    // The request is in the gateway's kernel buffer (a connected socket writes at once); the loop is
    // blocked before it polls the connection again.
    const stallUntil = performance.now() + 3 * HEADERS_TIMEOUT_MS;
    while (performance.now() < stallUntil);
    const timer = setTimeout(() => socket.destroy(), 10_000);
    await closed;
    clearTimeout(timer);
    assert.match(text, /^HTTP\/1\.1 200 /, text.slice(0, 300));
  });

  it('does not time out a response: a request that arrived in time may take longer than the request timeout to answer', async () => {
    const started = performance.now();
    const res = await g.client.chat.completions.create(
      { model: g.names.chat, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 },
      { headers: { 'x-sim-fault': `delay-ms=${2 * REQUEST_TIMEOUT_MS}` } },
    );
    assert.ok(performance.now() - started >= 2 * REQUEST_TIMEOUT_MS, 'the pod did not delay its answer');
    assert.equal(res.object, 'chat.completion');
  });

  it('ends a stream whose client stopped reading, frees its pod slot and concurrency lease, and settles the tokens generated', async () => {
    const redis = g.gateway.app.get(RedisService).client;
    const metrics = async () => (await fetch(`${g.url}/metrics`)).text();
    const stallsBefore = sample(await metrics(), 'switchyard_stream_client_stalls_total', { model: g.names.chat });
    const org = `q:{o:${g.orgId}}:org`;
    const tokensLog = async () => (await redis.zrange(`${org}:tk`, '0', '-1')).map(String);
    const earlier = new Set(await tokensLog());
    const reserved = 64 * 200;
    const body = JSON.stringify({
      model: g.names.chat,
      stream: true,
      // 64 choices of up to 200 tokens, ~1.5 kB per chunk: the stream outgrows the kernel's socket
      // buffers between the gateway and a client that stopped reading long before it ends.
      n: 64,
      max_tokens: 200,
      logprobs: true,
      top_logprobs: 20,
      messages: [{ role: 'user', content: 'Write a very long story.' }],
    });
    const socket = connect();
    await once(socket, 'connect');
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${g.apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    let head = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      const onData = (d: string) => {
        head += d;
        if (!head.includes('data: ')) return;
        // The stream has begun: stop reading (the connection stays open).
        socket.off('data', onData);
        socket.pause();
        resolve();
      };
      socket.on('data', onData);
    });
    assert.match(head, /^HTTP\/1\.1 200 /);
    try {
      await eventually(async () => (await redis.zcard(`${org}:cc`)) === 0, 'the concurrency lease to be released', 60_000, 100);
      await eventually(async () => sample(await metrics(), 'switchyard_stream_client_stalls_total', { model: g.names.chat }) === stallsBefore + 1, 'the stall to be counted', 10_000, 50);
      const exposition = await metrics();
      for (const phase of ['prefill', 'decode']) {
        assert.equal(sample(exposition, 'switchyard_pod_in_flight', { pool: g.names.chat, phase }), 0, `the pod slot (${phase}) was not freed`);
      }
      // The reservation (prompt + max_tokens) was replaced by what was really generated before the cut.
      const members = (await tokensLog()).filter((m) => !earlier.has(m));
      const settled = members.map((m) => Number(m.slice(m.lastIndexOf(':') + 1)));
      assert.equal(settled.length, 1, members.join(','));
      assert.ok(settled[0]! > 20 && settled[0]! < reserved, `settled ${settled[0]} tokens of ${reserved} reserved`);
    } finally {
      socket.destroy();
    }
  });
});
