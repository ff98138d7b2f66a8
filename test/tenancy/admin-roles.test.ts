/**
 * The two admin roles. An org admin manages its own organization and nothing else: every attempt on
 * another organization answers 404 (its existence is not confirmed) and changes nothing; platform-only
 * operations answer 403. Inference-only keys cannot reach the admin API at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Reply, type TenancyGateway, bootTenancyGateway, createKey, createTenant } from './support.js';

let t: TenancyGateway;
before(async () => {
  t = await bootTenancyGateway();
});
after(async () => {
  await t?.close();
});

/** Org A (whose admin acts) and org B (the target), each with an inference key and an org-admin key. */
async function twoTenants() {
  const [a, b] = await Promise.all([createTenant(t), createTenant(t)]);
  return { a, b, asA: (method: string, path: string, body?: unknown) => t.admin(method, path, body, a.adminKey) };
}

function assertNotFound(res: Reply) {
  assert.equal(res.status, 404, res.text);
  assert.equal(res.body.error.code, 'not_found');
}

function assertForbidden(res: Reply) {
  assert.equal(res.status, 403, res.text);
  assert.equal(res.body.error.type, 'permission_error');
}

describe('inference-only keys', () => {
  it('cannot reach any admin endpoint', async () => {
    const { a } = await twoTenants();
    const key = a.inferenceKey;
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', '/me'],
      ['GET', '/organizations'],
      ['POST', '/organizations', { name: 'x' }],
      ['GET', `/organizations/${a.org.id}`],
      ['PATCH', `/organizations/${a.org.id}`, { name: 'x' }],
      ['GET', `/organizations/${a.org.id}/keys`],
      ['POST', `/organizations/${a.org.id}/keys`, { name: 'x' }],
      ['POST', `/organizations/${a.org.id}/keys/${a.inference.id}/rotate`],
      ['POST', `/organizations/${a.org.id}/keys/${a.inference.id}/revoke`],
      ['GET', `/organizations/${a.org.id}/models`],
      ['GET', `/organizations/${a.org.id}/limits`],
      ['GET', '/audit-log'],
    ];
    for (const [method, path, body] of attempts) {
      const res = await t.admin(method, path, body, key);
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      assert.equal(res.body.error.code, 'permission_denied');
    }
    assert.equal((await t.request('GET', '/v1/models', key)).status, 200, 'the key itself still works');
  });

  it('cannot reach the admin API without any key either', async () => {
    const res = await t.request('GET', '/admin/v1/organizations', undefined);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'invalid_api_key');
  });
});

describe('an org admin, on its own organization', () => {
  it('sees only its own organization in the list', async () => {
    const { a, asA } = await twoTenants();
    const res = await asA('GET', '/organizations');
    assert.deepEqual(res.body.data.map((o: { id: string }) => o.id), [a.org.id]);
    assert.equal(res.body.has_more, false);
  });

  it('reads its organization, models and limits, and its role', async () => {
    const { a, asA } = await twoTenants();
    assert.equal((await asA('GET', `/organizations/${a.org.id}`)).body.id, a.org.id);
    assert.equal((await asA('GET', `/organizations/${a.org.id}/models`)).status, 200);
    assert.equal((await asA('GET', `/organizations/${a.org.id}/limits`)).body.tier, 'standard');
    const me = await asA('GET', '/me');
    assert.deepEqual([me.body.role, me.body.org_id], ['org_admin', a.org.id]);
  });

  it('renames its organization but cannot change its tier or model access', async () => {
    const { a, asA } = await twoTenants();
    assert.equal((await asA('PATCH', `/organizations/${a.org.id}`, { name: 'Ours' })).body.name, 'Ours');
    assertForbidden(await asA('PATCH', `/organizations/${a.org.id}`, { tier: 'enterprise' }));
    assertForbidden(await asA('PATCH', `/organizations/${a.org.id}`, { allowed_models: [t.models.chat] }));
    assert.equal((await t.admin('GET', `/organizations/${a.org.id}`)).body.tier, 'standard');
  });

  it('cannot suspend or resume any organization, its own included', async () => {
    const { a, b, asA } = await twoTenants();
    assertForbidden(await asA('POST', `/organizations/${a.org.id}/suspend`));
    assertForbidden(await asA('POST', `/organizations/${b.org.id}/suspend`));
    assertForbidden(await asA('POST', `/organizations/${a.org.id}/resume`));
    assert.equal((await t.admin('GET', `/organizations/${b.org.id}`)).body.status, 'active');
  });

  it('cannot create organizations', async () => {
    const { asA } = await twoTenants();
    assertForbidden(await asA('POST', '/organizations', { name: 'Shadow' }));
  });

  it('creates, lists, rotates and revokes keys of its own organization', async () => {
    const { a, asA } = await twoTenants();
    const key = await createKey(t, a.org.id, { name: 'made by org admin', scopes: ['inference', 'org_admin'], allowed_models: [t.models.chat] }, a.adminKey);
    assert.equal((await t.request('GET', '/v1/models', key.secret)).status, 200);
    const listed = await asA('GET', `/organizations/${a.org.id}/keys`);
    assert.ok(listed.body.data.some((k: { id: string }) => k.id === key.id));
    const rotated = await asA('POST', `/organizations/${a.org.id}/keys/${key.id}/rotate`);
    assert.equal(rotated.status, 200);
    assert.equal((await asA('POST', `/organizations/${a.org.id}/keys/${rotated.body.id}/revoke`)).body.status, 'revoked');
    assert.equal((await t.request('GET', '/v1/models', rotated.body.secret)).status, 401);
  });

  it('cannot grant the platform_admin scope', async () => {
    const { a, asA } = await twoTenants();
    assertForbidden(await asA('POST', `/organizations/${a.org.id}/keys`, { name: 'escalate', scopes: ['platform_admin'] }));
    assertNotFound(await asA('POST', '/organizations/org_system/keys', { name: 'escalate', scopes: ['platform_admin'] }));
  });

  it('loses the admin API when its organization is suspended', async () => {
    const { a, asA } = await twoTenants();
    await t.admin('POST', `/organizations/${a.org.id}/suspend`);
    const res = await asA('GET', `/organizations/${a.org.id}`);
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'organization_suspended');
  });
});

describe("an org admin, on another organization's", () => {
  it('organization: cannot read it', async () => {
    const { b, asA } = await twoTenants();
    assertNotFound(await asA('GET', `/organizations/${b.org.id}`));
  });

  it('organization: cannot tell it from one that does not exist', async () => {
    const { b, asA } = await twoTenants();
    const existing = await asA('GET', `/organizations/${b.org.id}`);
    const missing = await asA('GET', '/organizations/org_000000000000000000000000');
    assert.equal(existing.status, missing.status);
    assert.equal(existing.body.error.message.replace(b.org.id, 'X'), missing.body.error.message.replace('org_000000000000000000000000', 'X'));
  });

  it('organization: cannot rename it', async () => {
    const { b, asA } = await twoTenants();
    assertNotFound(await asA('PATCH', `/organizations/${b.org.id}`, { name: 'Pwned' }));
    assert.equal((await t.admin('GET', `/organizations/${b.org.id}`)).body.name, b.org.name);
  });

  it('models: cannot read them', async () => {
    const { b, asA } = await twoTenants();
    assertNotFound(await asA('GET', `/organizations/${b.org.id}/models`));
  });

  it('limits: cannot read them', async () => {
    const { b, asA } = await twoTenants();
    assertNotFound(await asA('GET', `/organizations/${b.org.id}/limits`));
  });

  it('keys: cannot list them', async () => {
    const { b, asA } = await twoTenants();
    const res = await asA('GET', `/organizations/${b.org.id}/keys`);
    assertNotFound(res);
    assert.ok(!res.text.includes(b.inference.id));
  });

  it('keys: cannot read one, through either organization path', async () => {
    const { a, b, asA } = await twoTenants();
    assertNotFound(await asA('GET', `/organizations/${b.org.id}/keys/${b.inference.id}`));
    assertNotFound(await asA('GET', `/organizations/${a.org.id}/keys/${b.inference.id}`));
  });

  it('keys: cannot create one there', async () => {
    const { b, asA } = await twoTenants();
    assertNotFound(await asA('POST', `/organizations/${b.org.id}/keys`, { name: 'implant' }));
    const keys = await t.admin('GET', `/organizations/${b.org.id}/keys`);
    assert.equal(keys.body.data.length, 2);
  });

  it('keys: cannot revoke one, and the key keeps working', async () => {
    const { a, b, asA } = await twoTenants();
    assertNotFound(await asA('POST', `/organizations/${b.org.id}/keys/${b.inference.id}/revoke`));
    assertNotFound(await asA('POST', `/organizations/${a.org.id}/keys/${b.inference.id}/revoke`));
    assert.equal((await t.request('GET', '/v1/models', b.inferenceKey)).status, 200);
  });

  it('keys: cannot rotate one, and the key keeps working', async () => {
    const { a, b, asA } = await twoTenants();
    assertNotFound(await asA('POST', `/organizations/${b.org.id}/keys/${b.inference.id}/rotate`));
    assertNotFound(await asA('POST', `/organizations/${a.org.id}/keys/${b.inference.id}/rotate`));
    assert.equal((await t.request('GET', '/v1/models', b.inferenceKey)).status, 200);
  });

  it('keys: cannot page with another organization’s key id as a cursor', async () => {
    const { a, b, asA } = await twoTenants();
    const res = await asA('GET', `/organizations/${a.org.id}/keys?after=${b.inference.id}`);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.param, 'after');
  });

  it('audit log: cannot read it, and sees only its own entries unfiltered', async () => {
    const { a, b, asA } = await twoTenants();
    assertNotFound(await asA('GET', `/audit-log?org_id=${b.org.id}`));
    const own = await asA('GET', '/audit-log?limit=100');
    assert.equal(own.status, 200);
    assert.ok(own.body.data.length > 0);
    assert.ok(own.body.data.every((e: { org_id: string }) => e.org_id === a.org.id), JSON.stringify(own.body.data.map((e: { org_id: string }) => e.org_id)));
  });

  it('system organization: cannot see it or its keys', async () => {
    const { asA } = await twoTenants();
    assertNotFound(await asA('GET', '/organizations/org_system'));
    assertNotFound(await asA('GET', '/organizations/org_system/keys'));
  });
});
