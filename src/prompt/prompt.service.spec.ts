import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { AppConfig } from '../config/index.js';
import { ApiError } from '../errors/api-error.js';
import type { RequestBody } from '../validation/request-validator.js';
import { PromptService } from './prompt.service.js';

const model = (tokenizer = 'llama3'): CatalogModel => ({
  name: 'm', kind: 'chat', aliases: [], pool: 'p', runtime: 'sim', servedModel: 'm', contextWindow: 4096, maxOutputTokens: null,
  tokenizer, inputPricePerMTok: 0, outputPricePerMTok: 0, capabilities: {}, fallbacks: [], ownedBy: 'x', createdAt: new Date(),
}) as CatalogModel;

const body = { model: 'm', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 5 } as unknown as RequestBody;
/** offloadBytes 0: every prompt goes to a worker thread; a huge value: every prompt is counted inline. */
const config = (offloadBytes: number) => ({ prompt: { offloadBytes, workers: 1 } }) as AppConfig;

const services: PromptService[] = [];
function service(offloadBytes: number, worker?: URL): PromptService {
  const s = new PromptService(config(offloadBytes), worker);
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
});
