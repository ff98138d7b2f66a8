/**
 * Fault: slow-body clients. Thirty clients each send a request body a few bytes at a time over about
 * two seconds (raw sockets, as a slow or hostile uploader would), while ordinary clients use the same
 * replica. What must hold: the slow requests are answered like any other once their body is complete
 * (OpenAI's response, not an error or a hang), the ordinary clients are served meanwhile (the body
 * wait holds no event loop, no pod and no quota lease: ordinary requests complete one after another
 * before any slow body is complete), and every request is settled exactly once (method:
 * test/faults/support.ts).
 *
 * Not covered here: a client that stops sending its body altogether (408 after the request timeout)
 * and one that stops reading a stream (ended and settled after the stall timeout): test/edge/timeouts.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventually } from '../support/eventually.js';
import { bootGateway, createTenant, testCatalogue, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { assertMatchesSchema } from '../support/openai-schema.js';
import { PRICES, quotaState, settledCost, sum, type Seen } from './support.js';

let gw: TestGateway;
before(async () => {
  gw = await bootGateway(testCatalogue(uniqueSuffix(), { prices: PRICES }));
});
after(async () => {
  await gw?.close();
});

/** Sends `body` in `pieces` parts `gapMs` apart on a raw connection; resolves with the status and JSON body. */
function slowPost(url: string, key: string, body: string, pieces: number, gapMs: number): Promise<{ status: number; json: unknown }> {
  const { hostname, port } = new URL(url);
  const bytes = Buffer.from(body);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (response += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head, ...rest] = response.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head ?? '')?.[1]);
      try {
        resolve({ status, json: JSON.parse(rest.join('\r\n\r\n')) });
      } catch {
        reject(new Error(`unreadable answer: ${response.slice(0, 300)}`));
      }
    });
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${bytes.length}\r\nconnection: close\r\n\r\n`,
    );
    const size = Math.ceil(bytes.length / pieces);
    let sent = 0;
    const next = () => {
      socket.write(bytes.subarray(sent, sent + size));
      sent += size;
      if (sent < bytes.length) setTimeout(next, gapMs);
    };
    setTimeout(next, gapMs);
  });
}

describe('slow-body clients', () => {
  it('are answered once their bodies arrive, while ordinary clients are served meanwhile; usage settled once', async () => {
    const tenant = await createTenant(gw.gateway, { tier: 'enterprise' });
    const messages = [{ role: 'user', content: 'Describe a rail yard at dawn.' }];
    const body = JSON.stringify({ model: gw.names.chat, messages, max_tokens: 5 });
    const ordinary = async () => {
      const started = performance.now();
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' }, body });
      const json = (await res.json()) as { usage: Seen['usage'] };
      assert.equal(res.status, 200, JSON.stringify(json));
      return { ms: performance.now() - started, seen: { ok: true, usage: json.usage, chunks: 0 } as Seen };
    };
    const baseline = [];
    for (let i = 0; i < 5; i++) baseline.push(await ordinary());

    const slow = Array.from({ length: 30 }, () => slowPost(gw.url, tenant.apiKey, body, 20, 100));
    const during = [];
    let firstSlowAnswer = Infinity;
    for (const p of slow) void p.then(() => (firstSlowAnswer = Math.min(firstSlowAnswer, performance.now())));
    let slowDone = false;
    void Promise.all(slow).finally(() => (slowDone = true));
    while (!slowDone && during.length < 40) during.push({ ...(await ordinary()), at: performance.now() });
    const answers = await Promise.all(slow);

    for (const a of answers) {
      assert.equal(a.status, 200, JSON.stringify(a.json));
      assertMatchesSchema('CreateChatCompletionResponse', a.json);
    }
    // The body wait holds nothing: ordinary requests complete, one after another, before any slow body
    // is even complete.
    const before = during.filter((d) => d.at < firstSlowAnswer).length;
    assert.ok(before >= 3, `ordinary clients were served while 30 slow bodies were arriving (${before} before the first slow answer)`);

    const seen = [...baseline, ...during].map((d) => d.seen).concat(answers.map((a) => ({ ok: true, usage: (a.json as { usage: Seen['usage'] }).usage, chunks: 0 })));
    const settled = seen.map((s) => settledCost(s, 0));
    const want = { spend: sum(settled.map((s) => s.cost)), tokens: sum(settled.map((s) => s.tokens)), leases: 0 };
    const redis = new Redis(process.env.SWITCHYARD_REDIS_URL!);
    try {
      await eventually(async () => JSON.stringify(await quotaState(redis, tenant.orgId)) === JSON.stringify(want), 'the quota to be settled', 10_000).catch(async () => {
        assert.deepEqual(await quotaState(redis, tenant.orgId), want);
      });
    } finally {
      redis.disconnect();
    }
  });
});
