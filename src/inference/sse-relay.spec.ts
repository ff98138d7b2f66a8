import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { VllmAdapter } from '../runtimes/vllm/vllm.adapter.js';
import { ManualClock } from '../clock/manual-clock.js';
import { relaySse } from './sse-relay.js';

class FakeResponse extends EventEmitter {
  written: string[] = [];
  destroyed = false;
  write(text: string) {
    this.written.push(text);
    return true;
  }
}

async function* chunks(parts: string[], failAtEnd?: Error) {
  for (const p of parts) yield Buffer.from(p);
  if (failAtEnd) throw failAtEnd;
}

function run(parts: string[], includeUsage: boolean, failAtEnd?: Error) {
  const res = new FakeResponse();
  const it = chunks(parts, failAtEnd);
  const firstPart = parts[0]!;
  return it.next().then(async (first) => {
    assert.equal(Buffer.from(first.value as Buffer).toString(), firstPart);
    const outcome = await relaySse(res as unknown as ServerResponse, first.value as Buffer, it, {
      clientModel: 'alias',
      upstreamModel: 'upstream',
      includeUsage,
      adapter: new VllmAdapter(),
      signal: new AbortController().signal,
      stallTimeoutMs: 1_000,
      clock: new ManualClock(),
      onFirstChunk: () => undefined,
    });
    return { outcome, events: res.written.map((w) => w.replace(/^data: /, '').trim()) };
  });
}

const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'upstream', choices: [{ index: 0, delta: { content } }] })}\n\n`;
const usage = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'upstream', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n`;

describe('SSE relay', () => {
  it('rewrites the model, reassembles events split across reads, drops usage unless asked', async () => {
    const whole = chunk('Hel') + chunk('lo') + usage + 'data: [DONE]\n\n';
    const parts = [whole.slice(0, 17), whole.slice(17, 150), whole.slice(150)];
    const { outcome, events } = await run(parts, false);
    assert.equal(outcome.completed, true);
    assert.deepEqual(outcome.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    assert.equal(events.length, 3);
    assert.deepEqual(events.slice(0, 2).map((e) => JSON.parse(e).model), ['alias', 'alias']);
    assert.equal(events[2], '[DONE]');
  });

  it('keeps the usage chunk when the client asked for it', async () => {
    const { events } = await run([chunk('a') + usage + 'data: [DONE]\n\n'], true);
    assert.equal(JSON.parse(events[1]!).usage.total_tokens, 5);
  });

  it('ends a stream cut mid-way with an error event and no [DONE]', async () => {
    const { outcome, events } = await run([chunk('a'), chunk('b')], false, Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    assert.equal(outcome.completed, false);
    assert.equal(JSON.parse(events.at(-1)!).error.code, 'upstream_stream_interrupted');
    assert.ok(!events.includes('[DONE]'));
  });

  it('ends a stream that stops without [DONE] with an error event', async () => {
    const { events } = await run([chunk('a')], false);
    assert.equal(JSON.parse(events.at(-1)!).error.code, 'upstream_stream_interrupted');
  });

  it('cuts a client whose socket does not drain for the stall timeout, and not one that drains in time', async () => {
    const clock = new ManualClock();
    /** A socket that takes one chunk, then reports a full buffer until `drain()`. */
    class SlowResponse extends FakeResponse {
      override write(text: string) {
        this.written.push(text);
        return false;
      }
      destroy() {
        this.destroyed = true;
        this.emit('close');
      }
    }
    const res = new SlowResponse();
    let release!: () => void;
    const upstreamDone = new Promise<void>((r) => (release = r));
    async function* upstream() {
      yield Buffer.from(chunk('b'));
      yield Buffer.from(chunk('c'));
      await upstreamDone;
    }
    const it = upstream();
    const relaying = relaySse(res as unknown as ServerResponse, Buffer.from(chunk('a')), it, {
      clientModel: 'alias',
      upstreamModel: 'upstream',
      includeUsage: false,
      adapter: new VllmAdapter(),
      signal: new AbortController().signal,
      stallTimeoutMs: 1_000,
      clock,
      onFirstChunk: () => undefined,
    });
    await new Promise((r) => setImmediate(r));
    clock.advance(999);
    res.emit('drain'); // the client read just in time: the next chunk goes out
    await new Promise((r) => setImmediate(r));
    assert.equal(res.written.length, 2);
    assert.equal(res.destroyed, false);
    clock.advance(1_000); // then it stopped reading
    const outcome = await relaying;
    release();
    assert.equal(res.destroyed, true, 'the response was cut');
    assert.deepEqual([outcome.stalled, outcome.clientGone, outcome.completed, outcome.outputChunks], [true, true, false, 2]);
  });

  it('translates a runtime error event into an OpenAI error event', async () => {
    const vllmError = `data: ${JSON.stringify({ object: 'error', message: 'boom', type: 'InternalServerError', param: null, code: 500 })}\n\n`;
    const { events } = await run([chunk('a') + vllmError], false);
    const last = JSON.parse(events.at(-1)!);
    assert.equal(last.error.type, 'server_error');
    assert.equal(last.error.code, 'upstream_error');
  });
});
