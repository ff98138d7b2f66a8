/**
 * Authentication on every /v1 request, against real PostgreSQL and Redis: which keys get in, what the
 * others get back, which models a key can see, and what the hot path costs the database (counted, never
 * timed).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateApiKey } from '../../src/tenancy/api-key.secret.js';
import { CredentialRepository } from '../../src/auth/credential.repository.js';
import { KeyUsageRecorder } from '../../src/auth/key-usage.recorder.js';
import { SYSTEM_ACTOR } from '../../src/tenancy/actor.js';
import { ApiKeyService } from '../../src/tenancy/api-key.service.js';
import { TEST_KEY_PEPPER } from '../support/harness.js';
import { assertMatchesSchema } from '../support/openai-schema.js';
import { type Reply, type TenancyGateway, bootTenancyGateway, chatBody, createKey, createOrg, createTenant, waitUntil } from './support.js';

let t: TenancyGateway;
before(async () => {
  t = await bootTenancyGateway();
});
after(async () => {
  await t?.close();
});

function assertOpenAiError(res: Reply, status: number, type: string, code: string, param: string | null = null) {
  assert.equal(res.status, status, res.text);
  assertMatchesSchema('ErrorResponse', res.body);
  assert.deepEqual([res.body.error.type, res.body.error.code, res.body.error.param], [type, code, param]);
}

/** Counts database lookups made by authentication from now on. */
function countLookups(): { hashes: string[]; restore(): void } {
  const repo = t.gateway.app.get(CredentialRepository);
  const original = repo.findByHash;
  const hashes: string[] = [];
  repo.findByHash = (hash: string) => {
    hashes.push(hash);
    return original.call(repo, hash);
  };
  return { hashes, restore: () => (repo.findByHash = original) };
}

// Only this suite's models: the catalogue lives in the shared test database, where suites running
// at the same time create pools and models through the admin API that every gateway then serves.
const listModels = async (key: string) => {
  const ours = new Set<string>(Object.values(t.models));
  return ((await t.request('GET', '/v1/models', key)).body.data as Array<{ id: string }>).map((m) => m.id).filter((id) => ours.has(id)).sort();
};

describe('/v1 authentication', () => {
  it('accepts a valid key and lists every catalogue model for a key without an allow-list', async () => {
    const { inferenceKey } = await createTenant(t);
    const res = await t.request('GET', '/v1/models', inferenceKey);
    assert.equal(res.status, 200);
    assertMatchesSchema('ListModelsResponse', res.body);
    assert.deepEqual(await listModels(inferenceKey), [t.models.alias, t.models.chat, t.models.embed, t.models.other].sort());
  });

  it('rejects a request without an Authorization header with 401 invalid_api_key', async () => {
    assertOpenAiError(await t.request('POST', '/v1/chat/completions', undefined, chatBody(t.models.chat)), 401, 'authentication_error', 'invalid_api_key');
    assertOpenAiError(await t.request('GET', '/v1/models', undefined), 401, 'authentication_error', 'invalid_api_key');
  });

  it('rejects a malformed header or a non-Switchyard key with 401, without echoing it', async () => {
    const foreign = 'sk-proj-SOMEONE-ELSES-SECRET-0123456789abcdef';
    for (const header of [`Basic ${foreign}`, `Bearer ${foreign}`, 'Bearer sk-sy-tooshort', `Bearer ${generateApiKey()} extra`]) {
      const res = await fetch(`${t.url}/v1/models`, { headers: { authorization: header } });
      const text = await res.text();
      assert.equal(res.status, 401, header);
      assert.equal(JSON.parse(text).error.code, 'invalid_api_key');
      assert.ok(!text.includes('SOMEONE-ELSES'), text);
    }
  });

  it('rejects an unknown sk-sy- key with 401, showing only its display prefix', async () => {
    const key = generateApiKey();
    const res = await t.request('POST', '/v1/chat/completions', key, chatBody(t.models.chat));
    assertOpenAiError(res, 401, 'authentication_error', 'invalid_api_key');
    assert.ok(res.text.includes(key.slice(0, 14)));
    assert.ok(!res.text.includes(key.slice(0, 15)), res.text);
  });

  it('rejects a revoked key with 401 invalid_api_key at once', async () => {
    const { org, inferenceKey, inference } = await createTenant(t);
    assert.equal((await t.request('GET', '/v1/models', inferenceKey)).status, 200);
    assert.equal((await t.admin('POST', `/organizations/${org.id}/keys/${inference.id}/revoke`)).status, 200);
    assertOpenAiError(await t.request('GET', '/v1/models', inferenceKey), 401, 'authentication_error', 'invalid_api_key');
    assertOpenAiError(await t.request('POST', '/v1/embeddings', inferenceKey, { model: t.models.embed, input: 'x' }), 401, 'authentication_error', 'invalid_api_key');
  });

  it('rejects an expired key with 401 invalid_api_key from the moment it expires, even while it is cached', async () => {
    const org = await createOrg(t);
    // A second is ample for the first request, which caches the key; the test then waits on the
    // answer changing, not on a clock margin.
    const expiresAt = Date.now() + 1_000;
    const { secret } = await t.gateway.app.get(ApiKeyService).create(SYSTEM_ACTOR, org.id, { name: 'short-lived', expiresAt: new Date(expiresAt) });
    const lookups = countLookups();
    try {
      assert.equal((await t.request('GET', '/v1/models', secret)).status, 200);
      let res: Reply | undefined;
      await waitUntil(async () => (res = await t.request('GET', '/v1/models', secret)).status !== 200, 10_000, 20);
      assert.ok(Date.now() >= expiresAt, 'refused only once it expired');
      assertOpenAiError(res!, 401, 'authentication_error', 'invalid_api_key');
      assert.match(res!.body.error.message, /expired/);
      assert.equal(lookups.hashes.length, 1, 'the cached key was refused without asking the database again');
    } finally {
      lookups.restore();
    }
  });

  it('answers 403 for a key of a suspended organization, and lets it in again once resumed', async () => {
    const { org, inferenceKey } = await createTenant(t);
    assert.equal((await t.request('GET', '/v1/models', inferenceKey)).status, 200);
    assert.equal((await t.admin('POST', `/organizations/${org.id}/suspend`)).status, 200);
    assertOpenAiError(await t.request('POST', '/v1/chat/completions', inferenceKey, chatBody(t.models.chat)), 403, 'permission_error', 'organization_suspended');
    assert.equal((await t.admin('POST', `/organizations/${org.id}/resume`)).status, 200);
    assert.equal((await t.request('GET', '/v1/models', inferenceKey)).status, 200);
  });

  it('answers 403 on /v1 for a key without the inference scope', async () => {
    const { adminKey } = await createTenant(t);
    assertOpenAiError(await t.request('GET', '/v1/models', adminKey), 403, 'permission_error', 'permission_denied');
    assertOpenAiError(await t.request('POST', '/v1/chat/completions', adminKey, chatBody(t.models.chat)), 403, 'permission_error', 'permission_denied');
  });
});

describe('/v1 model allow-lists', () => {
  it('lists only the allowed model (under its name and aliases) for a key limited to one model', async () => {
    const org = await createOrg(t);
    const key = await createKey(t, org.id, { allowed_models: [t.models.alias] });
    assert.deepEqual(await listModels(key.secret), [t.models.alias, t.models.chat].sort());
    const one = await t.request('GET', `/v1/models/${t.models.alias}`, key.secret);
    assert.equal(one.status, 200);
    assert.equal(one.body.id, t.models.alias);
  });

  it('answers 404 model_not_found for a model outside the allow-list, exactly as for a model that does not exist', async () => {
    const org = await createOrg(t);
    const key = await createKey(t, org.id, { allowed_models: [t.models.chat] });
    const hidden = await t.request('POST', '/v1/chat/completions', key.secret, chatBody(t.models.other));
    const missing = await t.request('POST', '/v1/chat/completions', key.secret, chatBody('no-such-model'));
    assertOpenAiError(hidden, 404, 'invalid_request_error', 'model_not_found', 'model');
    assertOpenAiError(missing, 404, 'invalid_request_error', 'model_not_found', 'model');
    assert.equal(hidden.body.error.message.replace(t.models.other, 'X'), missing.body.error.message.replace('no-such-model', 'X'));
    assertOpenAiError(await t.request('GET', `/v1/models/${t.models.other}`, key.secret), 404, 'invalid_request_error', 'model_not_found', 'model');
    assertOpenAiError(await t.request('POST', '/v1/completions', key.secret, { model: t.models.other, prompt: 'x' }), 404, 'invalid_request_error', 'model_not_found', 'model');
    // An embedding model on the chat endpoint would be a 400 for a key that may use it; for this key it does not exist.
    assertOpenAiError(await t.request('POST', '/v1/chat/completions', key.secret, chatBody(t.models.embed)), 404, 'invalid_request_error', 'model_not_found', 'model');
    assertOpenAiError(await t.request('POST', '/v1/embeddings', key.secret, { model: t.models.embed, input: 'x' }), 404, 'invalid_request_error', 'model_not_found', 'model');
  });

  it('lets an allowed model through to dispatch, by name or alias', async () => {
    const org = await createOrg(t);
    const key = await createKey(t, org.id, { allowed_models: [t.models.chat] });
    for (const model of [t.models.chat, t.models.alias]) {
      const res = await t.request('POST', '/v1/chat/completions', key.secret, chatBody(model));
      // The pool's pod is down: past auth and routing, the request fails upstream.
      assert.ok(res.status >= 500, `${model}: ${res.status} ${res.text}`);
    }
  });

  it("limits every key to its organization's models, intersected with the key's own list", async () => {
    const org = await createOrg(t, { allowed_models: [t.models.chat, t.models.embed] });
    const open = await createKey(t, org.id);
    const narrowed = await createKey(t, org.id, { allowed_models: [t.models.embed] });
    assert.deepEqual(await listModels(open.secret), [t.models.alias, t.models.chat, t.models.embed].sort());
    assert.deepEqual(await listModels(narrowed.secret), [t.models.embed]);
    assertOpenAiError(await t.request('POST', '/v1/chat/completions', open.secret, chatBody(t.models.other)), 404, 'invalid_request_error', 'model_not_found', 'model');
  });
});

describe('/v1 authentication cost', () => {
  it('queries the database once for a key, then serves it from memory', async () => {
    const { inferenceKey } = await createTenant(t);
    const lookups = countLookups();
    try {
      for (let i = 0; i < 25; i++) assert.equal((await t.request('GET', '/v1/models', inferenceKey)).status, 200);
      assert.equal(lookups.hashes.length, 1);
    } finally {
      lookups.restore();
    }
  });

  it('costs one database query for a flood of the same wrong key', async () => {
    const wrong = generateApiKey();
    const lookups = countLookups();
    try {
      const replies = await Promise.all(Array.from({ length: 50 }, () => t.request('GET', '/v1/models', wrong)));
      assert.ok(replies.every((r) => r.status === 401));
      assert.equal(lookups.hashes.length, 1);
    } finally {
      lookups.restore();
    }
  });

  it('looks a wrong key up by its HMAC only, so a key sharing a real key’s prefix costs the same as any other', async () => {
    const { inferenceKey } = await createTenant(t);
    const samePrefix = () => inferenceKey.slice(0, 14) + generateApiKey().slice(14);
    const lookups = countLookups();
    const answers: Record<'same' | 'other', string[]> = { same: [], other: [] };
    try {
      // Distinct keys each time (no negative-cache hits): each costs exactly one lookup, by its HMAC.
      for (let i = 0; i < 20; i++) {
        for (const kind of ['same', 'other'] as const) {
          const key = kind === 'same' ? samePrefix() : generateApiKey();
          const before = lookups.hashes.length;
          const res = await t.request('GET', '/v1/models', key);
          assert.equal(res.status, 401);
          assert.deepEqual(lookups.hashes.slice(before), [createHmac('sha256', TEST_KEY_PEPPER).update(key).digest('hex')], kind);
          answers[kind].push(res.text.replace(key.slice(0, 14), 'sk-sy-XXXXXXXX'));
        }
      }
    } finally {
      lookups.restore();
    }
    // Nothing about the prefix reaches the database, and nothing in the answer tells the two apart.
    assert.equal(lookups.hashes.length, 40);
    assert.deepEqual(new Set([...answers.same, ...answers.other]).size, 1, [...new Set([...answers.same, ...answers.other])].join('\n'));
  });

  it('writes last-used times in a batch, never on the request path', async () => {
    const org = await createOrg(t);
    const key = await createKey(t, org.id);
    const recorder = t.gateway.app.get(KeyUsageRecorder);
    await recorder.flush();
    for (let i = 0; i < 5; i++) assert.equal((await t.request('GET', '/v1/models', key.secret)).status, 200);
    const before = await t.admin<{ last_used_at: number | null }>('GET', `/organizations/${org.id}/keys/${key.id}`);
    assert.equal(before.body.last_used_at, null, 'nothing written per request');
    assert.ok((await recorder.flush()) >= 1);
    const afterFlush = await t.admin<{ last_used_at: number | null }>('GET', `/organizations/${org.id}/keys/${key.id}`);
    assert.ok(afterFlush.body.last_used_at !== null && Math.abs(afterFlush.body.last_used_at - Date.now() / 1000) < 60, JSON.stringify(afterFlush.body));
  });
});
