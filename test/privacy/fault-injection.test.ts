/**
 * A client must not be able to drive the simulator's fault injection (x-sim-fault) through the gateway:
 * in the default deployment the pods are simulators, and the header would let any key holder fail,
 * stall or kill them. Only SWITCHYARD_SIM_FAULT_INJECTION=true (tests, benchmarks) forwards it; the
 * suites that rely on it (e2e/resilience, e2e/openai-sdk, scheduling/pod-failure) turn it on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bootGateway, type TestGateway } from '../support/harness.js';

let gw: TestGateway;

before(async () => {
  gw = await bootGateway(); // default settings
});
after(async () => {
  await gw?.close();
});

describe('x-sim-fault by default', () => {
  it('is not forwarded: a request asking the pod to fail is served normally', async () => {
    const completion = await gw.client.chat.completions.create(
      { model: gw.names.chat, messages: [{ role: 'user', content: 'hello' }], max_tokens: 5 },
      { headers: { 'x-sim-fault': 'error=500' } },
    );
    assert.equal(completion.choices[0]!.finish_reason, 'length');
    assert.ok(completion.choices[0]!.message.content);
  });

  it('cannot kill the pod: a stream asking for a crash runs to its end', async () => {
    const stream = await gw.client.chat.completions.create(
      { model: gw.names.chat, messages: [{ role: 'user', content: 'tell me more' }], max_tokens: 8, stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-sim-fault': 'crash-after=1' } },
    );
    let content = '';
    let finish: string | null | undefined;
    let completionTokens: number | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
    }
    assert.equal(finish, 'length');
    assert.equal(completionTokens, 8);
    assert.ok(content.length > 0);
  });

  it('cannot stall the pod', async () => {
    // A 60-second stall after the first token would outlast the client's timeout.
    const client = gw.client.withOptions({ timeout: 20_000 });
    const completion = await client.chat.completions.create(
      { model: gw.names.chat, messages: [{ role: 'user', content: 'and again' }], max_tokens: 4 },
      { headers: { 'x-sim-fault': 'stall-after=1,stall-ms=60000' } },
    );
    assert.equal(completion.usage?.completion_tokens, 4);
  });
});
