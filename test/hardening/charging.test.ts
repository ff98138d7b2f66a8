/**
 * A client that leaves after the runtime accepted its request still pays for the prefill it started:
 * a stream abandoned before its first byte, and a non-streamed request whose client gave up waiting.
 * Checked on the organization's token counter in Redis, through the official openai SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { countPromptTokens } from '../../src/prompt/prompt-counter.js';
import { loadTokenizer } from '../../src/prompt/tokenizer.js';
import { RedisService } from '../../src/redis/redis.service.js';
import type { RequestBody } from '../../src/validation/request-validator.js';
import { createTenant, uniqueSuffix, type TestGateway } from '../support/harness.js';
import { boot, catalogue, eventually, metric, podMetrics, startPods, type SimPod } from '../scheduling/support.js';

const messages = [{ role: 'user' as const, content: 'Tell me everything about rail yards, at length.' }];
/** Keeps the runtime's only sequence slot busy for seconds. */
const LONG = { max_tokens: 2_000, ignore_eos: true } as Record<string, unknown>;

describe('a client that leaves after the runtime accepted its request', () => {
  let pod: SimPod;
  let gw: TestGateway;
  let model: string;
  const promptTokens = countPromptTokens(loadTokenizer('llama3'), 'chat.completions', { model: 'm', messages } as unknown as RequestBody)[0]!;

  before(async () => {
    // One sequence at a time: a second request waits in the runtime's own queue, accepted (a stream's
    // headers are sent) but without a byte of output, for as long as the first one runs.
    [pod] = await startPods(1, undefined, undefined, ['--max-num-seqs', '1']);
    const suffix = uniqueSuffix();
    model = `m-${suffix}`;
    gw = await boot(catalogue([{ name: `p-${suffix}`, endpoints: [pod.baseUrl] }], [{ name: model, pool: `p-${suffix}` }]));
  });
  after(async () => {
    await gw?.close();
    await pod?.stop();
  });

  const redis = () => gw.gateway.app.get(RedisService).client;
  const podSample = async (name: string) => metric(await podMetrics(pod), name);

  /**
   * Occupies the runtime with another organization's long stream, sends a request as `apiKey`'s client,
   * leaves once the runtime holds it in its queue, and returns the tokens charged to its organization.
   */
  async function abandon(apiKey: string, orgId: string, stream: boolean): Promise<number> {
    const blocker = new AbortController();
    const busy = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.apiKey, maxRetries: 0 });
    const blocking = busy.chat.completions
      .create({ model, messages, stream: true, ...LONG } as OpenAI.Chat.ChatCompletionCreateParamsStreaming, { signal: blocker.signal })
      .then(async (s) => {
        for await (const _ of s);
      })
      .catch(() => undefined);
    await eventually(async () => (await podSample('vllm:num_requests_running')) === 1, 5_000, 'the runtime to be busy');

    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
    const leave = new AbortController();
    const pending = client.chat.completions.create({ model, messages, stream, max_tokens: 10 } as OpenAI.Chat.ChatCompletionCreateParams, { signal: leave.signal });
    const outcome = pending.then(
      () => assert.fail('the request was expected to be cut off'),
      (err: Error) => err,
    );
    await eventually(async () => (await podSample('vllm:num_requests_waiting')) === 1, 5_000, 'the runtime to queue the request');
    const scope = `q:{o:${orgId}}:org`;
    assert.equal(await redis().zcard(`${scope}:cc`), 1, 'admitted: holds its concurrency lease');
    leave.abort();
    assert.ok((await outcome) instanceof OpenAI.APIUserAbortError, 'the client gave up');
    // The settlement releases the lease and rewrites the reservation in one script.
    await eventually(async () => (await redis().zcard(`${scope}:cc`)) === 0, 5_000, 'the request to be settled');
    blocker.abort();
    await blocking;
    return Number(await redis().get(`${scope}:tks`));
  }

  it('charges the prompt of a stream abandoned before its first byte', async () => {
    const tenant = await createTenant(gw.gateway);
    assert.equal(await abandon(tenant.apiKey, tenant.orgId, true), promptTokens);
  });

  it('charges the prompt of a non-streamed request whose client left while it ran', async () => {
    const tenant = await createTenant(gw.gateway);
    assert.equal(await abandon(tenant.apiKey, tenant.orgId, false), promptTokens);
  });
});
