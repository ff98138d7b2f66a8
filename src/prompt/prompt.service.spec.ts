import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { AppConfig } from '../config/index.js';
import { ApiError } from '../errors/api-error.js';
import { eventually } from '../../test/support/eventually.js';
import type { RequestBody } from '../validation/request-validator.js';
import { PromptService } from './prompt.service.js';

const model = (tokenizer = 'llama3'): CatalogModel => ({
  name: 'm', kind: 'chat', aliases: [], pool: 'p', runtime: 'sim', servedModel: 'm', contextWindow: 4096, maxOutputTokens: null,
  tokenizer, inputPricePerMTok: 0, outputPricePerMTok: 0, capabilities: {}, fallbacks: [], ownedBy: 'x', createdAt: new Date(),
}) as CatalogModel;

const body = { model: 'm', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 5 } as unknown as RequestBody;
/** offloadBytes 0: every prompt goes to a worker thread; a huge value: every prompt is counted inline. */
const config = (offloadBytes: number, queueMax = 64) => ({ prompt: { offloadBytes, workers: 1, queueMax } }) as AppConfig;

const services: PromptService[] = [];
function service(offloadBytes: number, worker?: URL, queueMax?: number): PromptService {
  const s = new PromptService(config(offloadBytes, queueMax), worker);
  services.push(s);
  return s;
}

const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-prompt-'));
after(async () => {
  await Promise.all(services.map((s) => s.onApplicationShutdown()));
  rmSync(dir, { recursive: true, force: true });
});

/** A failure of ours: not an ApiError, so the edge answers 500 server_error and logs it (never a 400). */
function isServerFault(err: unknown): boolean {
  return !(err instanceof ApiError) || err.status >= 500;
}

describe('prompt service', () => {
  it('counts the same prompt tokens in a worker thread as inline', async () => {
    const inline = await service(Number.MAX_SAFE_INTEGER).plan('chat.completions', body, model(), 100);
    const offloaded = await service(0).plan('chat.completions', body, model(), 100);
    assert.ok(inline.promptTokens > 0);
    assert.equal(offloaded.promptTokens, inline.promptTokens);
  });

  it('fails the request as a server error, not a 400, when the worker thread dies', async () => {
    const crashing = path.join(dir, 'crashing.worker.mjs');
    writeFileSync(crashing, 'export default function count() { process.exit(1); }\n');
    const prompts = service(0, pathToFileURL(crashing));
    await assert.rejects(prompts.plan('chat.completions', body, model(), 100), (err: unknown) => isServerFault(err) && /exited/.test((err as Error).message));
    // The pool replaces the thread: the next request meets a fresh one (which dies again here).
    await assert.rejects(prompts.plan('chat.completions', body, model(), 100), isServerFault);
  });

  it('fails the request as a server error when counting throws unexpectedly, inline or in the worker', async () => {
    const broken = model('no-such-tokenizer');
    await assert.rejects(service(Number.MAX_SAFE_INTEGER).plan('chat.completions', body, broken, 100), isServerFault);
    await assert.rejects(service(0).plan('chat.completions', body, broken, 100), isServerFault);
  });

  it('reserves every sequence the runtime generates: prompts × max(n, best_of) × max_tokens, one token each for max_tokens 0', async () => {
    const inline = service(Number.MAX_SAFE_INTEGER);
    const completions = (extra: object) => inline.plan('completions', { model: 'm', prompt: ['One prompt', 'Another'], ...extra } as unknown as RequestBody, model(), 100);
    assert.equal((await completions({ max_tokens: 10, n: 2 })).maxOutputTokens, 2 * 2 * 10);
    assert.equal((await completions({ max_tokens: 10, n: 2, best_of: 5 })).maxOutputTokens, 2 * 5 * 10);
    assert.equal((await completions({ max_tokens: 0, n: 3, echo: true })).maxOutputTokens, 2 * 3);
  });

  describe('with a worker that holds each task until the test lets it finish', () => {
    // Each task waits on its own gate (shared memory in the request body): [0] open, [1] started. It
    // answers with its thread id as the count, which tells whether the thread was replaced.
    const gatedWorker = path.join(dir, 'gated.worker.mjs');
    writeFileSync(
      gatedWorker,
      `import { threadId } from 'node:worker_threads';
export default function count(task) {
  Atomics.store(task.started, 0, 1);
  const gate = new Int32Array(task.body.gate);
  Atomics.store(gate, 1, 1);
  Atomics.wait(gate, 0, 0);
  return { counts: [threadId] };
}
`,
    );
    function gated() {
      const gate = new Int32Array(new SharedArrayBuffer(8));
      return {
        body: { ...body, gate: gate.buffer } as unknown as RequestBody,
        started: () => Atomics.load(gate, 1) === 1,
        open: () => {
          Atomics.store(gate, 0, 1);
          Atomics.notify(gate, 0);
        },
      };
    }

    it('bounds the queue of large prompts: past it, 503 server_overloaded with retry-after', { timeout: 20_000 }, async () => {
      const prompts = service(0, pathToFileURL(gatedWorker), 2);
      const tasks = [gated(), gated(), gated()];
      const first = prompts.plan('chat.completions', tasks[0]!.body, model(), 100);
      await eventually(tasks[0]!.started, 'the first task to run');
      const queued = [prompts.plan('chat.completions', tasks[1]!.body, model(), 100), prompts.plan('chat.completions', tasks[2]!.body, model(), 100)];
      await assert.rejects(
        prompts.plan('chat.completions', gated().body, model(), 100),
        (err: unknown) => err instanceof ApiError && err.code === 'server_overloaded' && err.status === 503 && err.headers['retry-after'] === '1',
      );
      for (const t of tasks) t.open();
      const plans = await Promise.all([first, ...queued]);
      assert.equal(new Set(plans.map((p) => p.promptTokens)).size, 1, 'all three counted on the one thread');
    });

    it('takes the prompt of a client that left out of the queue at once, and lets a running one finish on its thread', { timeout: 20_000 }, async () => {
      const prompts = service(0, pathToFileURL(gatedWorker), 8);
      const warm = gated();
      warm.open();
      const thread = (await prompts.plan('chat.completions', warm.body, model(), 100)).promptTokens;

      const running = gated();
      const runningClient = new AbortController();
      const a = prompts.plan('chat.completions', running.body, model(), 100, runningClient.signal);
      await eventually(running.started, 'the first task to run');
      const waiting = gated();
      const waitingClient = new AbortController();
      const b = prompts.plan('chat.completions', waiting.body, model(), 100, waitingClient.signal);
      waitingClient.abort();
      // Refused while the running task still holds the only thread: it never waited for its turn.
      await assert.rejects(b, (err: Error) => err.name === 'AbortError');
      assert.equal(waiting.started(), false);

      runningClient.abort();
      running.open();
      await assert.rejects(a, (err: Error) => err.name === 'AbortError');
      const next = gated();
      next.open();
      assert.equal((await prompts.plan('chat.completions', next.body, model(), 100)).promptTokens, thread, 'the same thread, not a replacement');
    });
  });
});
