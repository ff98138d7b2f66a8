/**
 * The admin REST API as a platform administrator: organizations, keys, models and limits, the audit
 * log, validation errors, the OpenAPI page, and the two ways to get the first platform-admin key.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TEST_KEY_PEPPER } from '../support/harness.js';
import { assertMatchesSchema } from '../support/openai-schema.js';
import { type Reply, type TenancyGateway, bootTenancyGateway, createKey, createOrg, createTenant } from './support.js';

let t: TenancyGateway;
before(async () => {
  t = await bootTenancyGateway();
});
after(async () => {
  await t?.close();
});

function assertError(res: Reply, status: number, code: string, param: string | null = null) {
  assert.equal(res.status, status, res.text);
  assertMatchesSchema('ErrorResponse', res.body);
  assert.equal(res.body.error.code, code, res.text);
  assert.equal(res.body.error.param, param, res.text);
}

async function auditActions(orgId: string): Promise<Array<Record<string, any>>> {
  const res = await t.admin('GET', `/audit-log?org_id=${orgId}&limit=100`);
  assert.equal(res.status, 200);
  return res.body.data;
}

describe('organizations (platform admin)', () => {
  it('creates an organization with a tier and a model list, and reads it back', async () => {
    const created = await t.admin('POST', '/organizations', { name: 'Acme', tier: 'premium', allowed_models: [t.models.alias] });
    assert.equal(created.status, 201);
    assert.match(created.body.id, /^org_[0-9a-f]{24}$/);
    assert.deepEqual(
      { object: created.body.object, name: created.body.name, tier: created.body.tier, status: created.body.status, allowed_models: created.body.allowed_models },
      { object: 'organization', name: 'Acme', tier: 'premium', status: 'active', allowed_models: [t.models.chat] },
    );
    const read = await t.admin('GET', `/organizations/${created.body.id}`);
    assert.deepEqual(read.body, created.body);
  });

  it('defaults to the standard tier and every model', async () => {
    const org = await createOrg(t);
    assert.equal(org.tier, 'standard');
    assert.equal(org.allowed_models, null);
  });

  it('pages through organizations with limit and after', async () => {
    await createOrg(t);
    await createOrg(t);
    const first = await t.admin('GET', '/organizations?limit=1');
    assert.equal(first.status, 200);
    assert.equal(first.body.object, 'list');
    assert.equal(first.body.data.length, 1);
    assert.equal(first.body.has_more, true);
    const second = await t.admin('GET', `/organizations?limit=1&after=${first.body.last_id}`);
    assert.equal(second.body.data.length, 1);
    assert.notEqual(second.body.data[0].id, first.body.data[0].id);
    assertError(await t.admin('GET', '/organizations?after=org_nope'), 400, 'invalid_value', 'after');
    assertError(await t.admin('GET', '/organizations?limit=0'), 400, 'invalid_value', 'limit');
  });

  it('renames, re-tiers and narrows an organization; its keys see the new model list at once', async () => {
    const { org, inferenceKey } = await createTenant(t);
    assert.equal((await t.request('GET', `/v1/models/${t.models.other}`, inferenceKey)).status, 200);
    const res = await t.admin('PATCH', `/organizations/${org.id}`, { name: 'Renamed', tier: 'enterprise', allowed_models: [t.models.chat] });
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.name, res.body.tier, res.body.allowed_models], ['Renamed', 'enterprise', [t.models.chat]]);
    assert.equal((await t.request('GET', `/v1/models/${t.models.other}`, inferenceKey)).status, 404);
    const widened = await t.admin('PATCH', `/organizations/${org.id}`, { allowed_models: null });
    assert.equal(widened.body.allowed_models, null);
    assert.equal((await t.request('GET', `/v1/models/${t.models.other}`, inferenceKey)).status, 200);
  });

  it('suspends and resumes an organization, stamping suspended_at', async () => {
    const org = await createOrg(t);
    const suspended = await t.admin('POST', `/organizations/${org.id}/suspend`);
    assert.equal(suspended.body.status, 'suspended');
    assert.ok(suspended.body.suspended_at > 0);
    const resumed = await t.admin('POST', `/organizations/${org.id}/resume`);
    assert.equal(resumed.body.status, 'active');
    assert.equal(resumed.body.suspended_at, null);
  });

  it('refuses to suspend the system organization', async () => {
    assertError(await t.admin('POST', '/organizations/org_system/suspend'), 400, 'invalid_request_error');
  });

  it("reports an organization's models and its tier's default limits", async () => {
    const org = await createOrg(t, { tier: 'free', allowed_models: [t.models.embed] });
    const models = await t.admin('GET', `/organizations/${org.id}/models`);
    assert.deepEqual(
      models.body.data.map((m: { id: string; kind: string }) => [m.id, m.kind]),
      [[t.models.embed, 'embedding']],
    );
    const limits = await t.admin('GET', `/organizations/${org.id}/limits`);
    assert.deepEqual(limits.body, {
      object: 'organization.limits',
      org_id: org.id,
      tier: 'free',
      priority: 0,
      effective: {
        requests_per_minute: 20,
        tokens_per_minute: 40_000,
        max_concurrent_requests: 2,
        daily_spend: 1,
        monthly_spend: 10,
        soft_daily_spend: null,
        soft_monthly_spend: 8,
      },
      policies: [],
    });
  });

  it('answers 404 not_found for an organization that does not exist', async () => {
    assertError(await t.admin('GET', '/organizations/org_doesnotexist'), 404, 'not_found');
    assertError(await t.admin('PATCH', '/organizations/org_doesnotexist', { name: 'x' }), 404, 'not_found');
    assertError(await t.admin('POST', '/organizations/org_doesnotexist/keys', { name: 'x' }), 404, 'not_found');
  });
});

describe('API keys (platform admin)', () => {
  it('returns the secret once at creation: an sk-sy- key whose first characters are the prefix', async () => {
    const org = await createOrg(t);
    const key = await createKey(t, org.id, { name: 'ci', scopes: ['inference', 'files'] });
    assert.match(key.secret, /^sk-sy-[A-Za-z0-9]{43}$/);
    assert.equal(key.prefix, key.secret.slice(0, 14));
    assert.deepEqual([key.status, key.scopes, key.last_used_at, key.revoked_at], ['active', ['inference', 'files'], null, null]);
    const listed = await t.admin('GET', `/organizations/${org.id}/keys`);
    const one = await t.admin('GET', `/organizations/${org.id}/keys/${key.id}`);
    for (const res of [listed, one]) {
      assert.equal(res.status, 200);
      assert.ok(!res.text.includes(key.secret.slice(14)), 'no secret in list/get');
      assert.ok(!res.text.includes('"secret"') && !res.text.includes('"hash"'));
    }
    assert.deepEqual(listed.body.data.map((k: { id: string }) => k.id), [key.id]);
  });

  it('rotates a key: the new secret works and the old one is refused at once', async () => {
    const { org, inference, inferenceKey } = await createTenant(t);
    const rotated = await t.admin('POST', `/organizations/${org.id}/keys/${inference.id}/rotate`);
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.rotated_from, inference.id);
    assert.equal(rotated.body.replaced.status, 'revoked');
    assert.notEqual(rotated.body.secret, inferenceKey);
    assert.equal((await t.request('GET', '/v1/models', rotated.body.secret)).status, 200);
    assert.equal((await t.request('GET', '/v1/models', inferenceKey)).status, 401);
    assertError(await t.admin('POST', `/organizations/${org.id}/keys/${inference.id}/rotate`), 400, 'invalid_request_error');
  });

  it('rotates with a grace period: the old key keeps working until it expires', async () => {
    const { org, inference, inferenceKey } = await createTenant(t);
    const rotated = await t.admin('POST', `/organizations/${org.id}/keys/${inference.id}/rotate`, { grace_seconds: 3600 });
    assert.equal(rotated.body.replaced.status, 'active');
    assert.ok(Math.abs(rotated.body.replaced.expires_at - (Date.now() / 1000 + 3600)) < 60);
    assert.equal((await t.request('GET', '/v1/models', inferenceKey)).status, 200);
    assert.equal((await t.request('GET', '/v1/models', rotated.body.secret)).status, 200);
  });

  it('revokes a key idempotently and hides revoked keys from the default listing', async () => {
    const { org, inference } = await createTenant(t);
    const first = await t.admin('POST', `/organizations/${org.id}/keys/${inference.id}/revoke`);
    const again = await t.admin('POST', `/organizations/${org.id}/keys/${inference.id}/revoke`);
    assert.equal(first.body.status, 'revoked');
    assert.equal(again.body.revoked_at, first.body.revoked_at);
    const active = await t.admin('GET', `/organizations/${org.id}/keys`);
    const all = await t.admin('GET', `/organizations/${org.id}/keys?include_revoked=true`);
    assert.ok(!active.body.data.some((k: { id: string }) => k.id === inference.id));
    assert.ok(all.body.data.some((k: { id: string }) => k.id === inference.id));
    const revokes = (await auditActions(org.id)).filter((e) => e.action === 'api_key.revoke');
    assert.equal(revokes.length, 1, 'a no-op revoke is not audited twice');
  });

  it('mints platform_admin keys only in the system organization', async () => {
    const org = await createOrg(t);
    assertError(await t.admin('POST', `/organizations/${org.id}/keys`, { name: 'x', scopes: ['platform_admin'] }), 400, 'invalid_value', 'scopes');
    const platform = await createKey(t, 'org_system', { name: `ops ${randomBytes(2).toString('hex')}`, scopes: ['platform_admin'] });
    const me = await t.admin('GET', '/me', undefined, platform.secret);
    assert.equal(me.body.role, 'platform_admin');
    await t.admin('POST', `/organizations/org_system/keys/${platform.id}/revoke`);
  });
});

describe('admin request validation', () => {
  it('names the offending field in OpenAI error shape', async () => {
    const org = await createOrg(t);
    assertError(await t.admin('POST', '/organizations', { name: 'x', colour: 'red' }), 400, 'unsupported_parameter', 'colour');
    assertError(await t.admin('POST', '/organizations', { tier: 'free' }), 400, 'missing_required_parameter', 'name');
    assertError(await t.admin('POST', '/organizations', { name: 'x', tier: 'gold' }), 400, 'invalid_value', 'tier');
    assertError(await t.admin('POST', '/organizations', { name: '' }), 400, 'invalid_value', 'name');
    assertError(await t.admin('POST', '/organizations', ['x']), 400, 'invalid_request_error');
    assertError(await t.admin('POST', `/organizations/${org.id}/keys`, { name: 'k', allowed_models: [t.models.chat, 'nope'] }), 400, 'invalid_value', 'allowed_models[1]');
    assertError(await t.admin('POST', `/organizations/${org.id}/keys`, { name: 'k', scopes: ['root'] }), 400, 'invalid_value', 'scopes');
    assertError(await t.admin('POST', `/organizations/${org.id}/keys`, { name: 'k', scopes: [] }), 400, 'invalid_value', 'scopes');
    assertError(await t.admin('POST', `/organizations/${org.id}/keys`, { name: 'k', expires_at: Math.floor(Date.now() / 1000) - 10 }), 400, 'invalid_value', 'expires_at');
    assertError(await t.admin('PATCH', `/organizations/${org.id}`, {}), 400, 'invalid_request_error');
    assertError(await t.admin('GET', '/audit-log?limit=abc'), 400, 'invalid_value', 'limit');
  });

  it("refuses a key model outside its organization's models", async () => {
    const org = await createOrg(t, { allowed_models: [t.models.chat] });
    assertError(await t.admin('POST', `/organizations/${org.id}/keys`, { name: 'k', allowed_models: [t.models.other] }), 400, 'invalid_value', 'allowed_models[0]');
  });
});

describe('audit log', () => {
  it('records every mutating call with who, what, when and from where', async () => {
    const started = Math.floor(Date.now() / 1000);
    const org = await createOrg(t);
    const key = await createKey(t, org.id);
    await t.admin('PATCH', `/organizations/${org.id}`, { name: 'Audited' });
    await t.admin('POST', `/organizations/${org.id}/suspend`);
    await t.admin('POST', `/organizations/${org.id}/resume`);
    const rotated = await t.admin('POST', `/organizations/${org.id}/keys/${key.id}/rotate`);
    await t.admin('POST', `/organizations/${org.id}/keys/${rotated.body.id}/revoke`);
    const me = (await t.admin('GET', '/me')).body;

    const entries = await auditActions(org.id);
    assert.deepEqual(
      entries.map((e) => e.action),
      ['api_key.revoke', 'api_key.rotate', 'organization.resume', 'organization.suspend', 'organization.update', 'api_key.create', 'organization.create'],
    );
    for (const entry of entries) {
      assert.equal(entry.org_id, org.id);
      assert.deepEqual(entry.actor, { key_id: me.key_id, key_prefix: me.key_prefix, org_id: 'org_system' });
      assert.equal(entry.source.ip, '127.0.0.1');
      assert.match(entry.source.request_id, /^req_/);
      assert.ok(entry.created_at >= started - 1);
    }
    const create = entries.find((e) => e.action === 'api_key.create')!;
    assert.equal(create.target_id, key.id);
    assert.equal(create.details.prefix, key.prefix);
    assert.ok(!JSON.stringify(entries).includes(key.secret.slice(14)), 'no secret in the audit log');
    // Reads are not audited.
    await t.admin('GET', `/organizations/${org.id}`);
    assert.equal((await auditActions(org.id)).length, entries.length);
  });
});

describe('OpenAPI page', () => {
  it('documents every admin endpoint with bearer auth, and nothing of /v1', async () => {
    const res = await fetch(`${t.url}/admin/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, { security?: unknown[] }>>; components: { securitySchemes: object } };
    const paths = Object.keys(doc.paths).sort();
    for (const path of [
      '/admin/v1/organizations',
      '/admin/v1/organizations/{orgId}',
      '/admin/v1/organizations/{orgId}/suspend',
      '/admin/v1/organizations/{orgId}/resume',
      '/admin/v1/organizations/{orgId}/models',
      '/admin/v1/organizations/{orgId}/limits',
      '/admin/v1/organizations/{orgId}/keys',
      '/admin/v1/organizations/{orgId}/keys/{keyId}',
      '/admin/v1/organizations/{orgId}/keys/{keyId}/revoke',
      '/admin/v1/organizations/{orgId}/keys/{keyId}/rotate',
      '/admin/v1/audit-log',
      '/admin/v1/me',
    ]) {
      assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
    }
    assert.ok(paths.every((p) => p.startsWith('/admin/')));
    assert.ok(Object.values(doc.paths).every((ops) => Object.values(ops).every((op) => op.security?.length)));
    assert.ok('bearer' in doc.components.securitySchemes);
    const page = await fetch(`${t.url}/admin/docs`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /swagger-ui/i);
  });
});

describe('the first platform-admin key', () => {
  it('comes from the CLI on a fresh install, printed once and working at once', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['dist/src/tenancy/admin.cli.js', 'create-platform-key', '--name', 'cli test'], {
      env: { ...process.env, SWITCHYARD_KEY_PEPPER: TEST_KEY_PEPPER },
    });
    const secret = stdout.trim();
    assert.match(secret, /^sk-sy-[A-Za-z0-9]{43}$/);
    const me = await t.admin('GET', '/me', undefined, secret);
    assert.equal(me.status, 200);
    assert.deepEqual([me.body.role, me.body.org_id, me.body.scopes], ['platform_admin', 'org_system', ['platform_admin']]);
    await t.admin('POST', `/organizations/org_system/keys/${me.body.key_id}/revoke`);
    assert.equal((await t.admin('GET', '/me', undefined, secret)).status, 401);
  });

  it('comes from SWITCHYARD_BOOTSTRAP_API_KEY, and once revoked stays revoked across restarts', async () => {
    const bootstrap = `sk-sy-${randomBytes(32).toString('base64url')}`;
    const first = await bootTenancyGateway({ env: { SWITCHYARD_BOOTSTRAP_API_KEY: bootstrap } });
    try {
      const me = await first.admin('GET', '/me', undefined, bootstrap);
      assert.equal(me.body.role, 'platform_admin');
      assert.equal((await first.admin('POST', `/organizations/org_system/keys/${me.body.key_id}/revoke`)).status, 200);
    } finally {
      await first.close();
    }
    const second = await bootTenancyGateway({ env: { SWITCHYARD_BOOTSTRAP_API_KEY: bootstrap } });
    try {
      assert.equal((await second.admin('GET', '/me', undefined, bootstrap)).status, 401);
    } finally {
      await second.close();
    }
  });
});
