/**
 * End to end with the official openai SDK, a real gateway and simulator pods: what a tenant's client
 * sees of keys, revocation, suspension and model allow-lists.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { bootGateway, createTenant, type TestGateway } from '../support/harness.js';
import { NO_IP_THROTTLE } from './support.js';

let gw: TestGateway;
before(async () => {
  gw = await bootGateway(undefined, NO_IP_THROTTLE);
});
after(async () => {
  await gw?.close();
});

const clientFor = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });

async function admin(method: string, path: string): Promise<Response> {
  const res = await fetch(`${gw.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${gw.adminKey}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return res;
}

describe('tenancy through the openai SDK', () => {
  it('raises AuthenticationError for a revoked key', async () => {
    const tenant = await createTenant(gw.gateway);
    const client = clientFor(tenant.apiKey);
    const ok = await client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    assert.equal(ok.choices.length, 1);
    await admin('POST', `/organizations/${tenant.orgId}/keys/${tenant.keyId}/revoke`);
    await assert.rejects(
      client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }),
      (err: unknown) => err instanceof OpenAI.AuthenticationError && err.status === 401 && err.code === 'invalid_api_key',
    );
    await assert.rejects(client.models.list(), OpenAI.AuthenticationError);
  });

  it('shows a key limited to one model exactly that model, and serves it', async () => {
    const tenant = await createTenant(gw.gateway, { allowedModels: [gw.names.embed] });
    const client = clientFor(tenant.apiKey);
    const page = await client.models.list();
    assert.deepEqual(page.data.map((m) => m.id), [gw.names.embed]);
    const res = await client.embeddings.create({ model: gw.names.embed, input: 'hello', encoding_format: 'float' });
    assert.equal(res.data.length, 1);
    await assert.rejects(
      client.chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found' && err.param === 'model',
    );
    await assert.rejects(client.models.retrieve(gw.names.chat), OpenAI.NotFoundError);
  });

  it('streams from the one chat model a key may use, by its alias', async () => {
    const tenant = await createTenant(gw.gateway, { allowedModels: [gw.names.chat] });
    const client = clientFor(tenant.apiKey);
    assert.deepEqual((await client.models.list()).data.map((m) => m.id).sort(), [gw.names.alias, gw.names.chat].sort());
    const stream = await client.chat.completions.create({ model: gw.names.alias, messages: [{ role: 'user', content: 'Count.' }], max_tokens: 5, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.ok(text.length > 0);
  });

  it('raises PermissionDeniedError for a key of a suspended organization', async () => {
    const tenant = await createTenant(gw.gateway);
    await admin('POST', `/organizations/${tenant.orgId}/suspend`);
    await assert.rejects(
      clientFor(tenant.apiKey).chat.completions.create({ model: gw.names.chat, messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.PermissionDeniedError && err.code === 'organization_suspended',
    );
  });
});
