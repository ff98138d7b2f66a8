/**
 * What an org admin must not be able to do to the platform, and what tenants must not see of it:
 * platform-admin keys are the platform's even inside the system organization; limits a platform admin
 * put on a key are a ceiling for the org's admins; the audit log's IP and user agent (the operators'
 * network details) are shown to platform admins only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_ADMIN_KEY, type TenancyGateway, bootTenancyGateway, createKey, createTenant } from '../tenancy/support.js';

let t: TenancyGateway;
before(async () => {
  t = await bootTenancyGateway();
});
after(async () => {
  await t?.close();
});

describe('platform-admin keys', () => {
  it('cannot be revoked or rotated by an org admin of the system organization', async () => {
    const systemOrgAdmin = await createKey(t, 'org_system', { name: 'system org admin', scopes: ['org_admin'] });
    const platformKey = await createKey(t, 'org_system', { name: 'another platform admin', scopes: ['platform_admin'] });
    for (const action of ['revoke', 'rotate']) {
      const res = await t.admin('POST', `/organizations/org_system/keys/${platformKey.id}/${action}`, undefined, systemOrgAdmin.secret);
      assert.equal(res.status, 403, `${action}: ${res.text}`);
      assert.equal(res.body.error.type, 'permission_error');
    }
    assert.equal((await t.admin('GET', '/me', undefined, platformKey.secret)).status, 200, 'the platform key still works');
    const listed = await t.admin('GET', `/organizations/org_system/keys/${platformKey.id}`);
    assert.equal(listed.body.status, 'active');
    // A platform admin still may.
    assert.equal((await t.admin('POST', `/organizations/org_system/keys/${platformKey.id}/revoke`)).status, 200);
  });
});

describe('limits a platform admin set on a key', () => {
  it('cannot be removed or raised by the org admin, only lowered', async () => {
    const a = await createTenant(t);
    const path = `/organizations/${a.org.id}/keys/${a.inference.id}/limits`;
    assert.equal((await t.admin('PUT', path, { requests_per_minute: 10, daily_spend: 5 })).status, 200);

    for (const body of [{}, { daily_spend: 5 }, { requests_per_minute: 11, daily_spend: 5 }, { requests_per_minute: 10, daily_spend: 50 }]) {
      const res = await t.admin('PUT', path, body, a.adminKey);
      assert.equal(res.status, 403, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.type, 'permission_error');
      assert.ok(['requests_per_minute', 'daily_spend'].includes(res.body.error.param), res.text);
    }
    const unchanged = await t.admin('GET', `/organizations/${a.org.id}/limits`, undefined, a.adminKey);
    const policy = unchanged.body.policies.find((p: { key_id: string }) => p.key_id === a.inference.id);
    assert.equal(policy.limits.requests_per_minute, 10);
    assert.equal(policy.limits.daily_spend, 5);
    assert.equal(policy.set_by_platform_admin, true);

    const lowered = await t.admin('PUT', path, { requests_per_minute: 5, daily_spend: 5, tokens_per_minute: 1000 }, a.adminKey);
    assert.equal(lowered.status, 200, lowered.text);
    const after = lowered.body.policies.find((p: { key_id: string }) => p.key_id === a.inference.id);
    assert.equal(after.limits.requests_per_minute, 5);
    assert.equal(after.set_by_platform_admin, true, 'still the platform ceiling');

    // The platform admin can remove it.
    const cleared = await t.admin('PUT', path, {});
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.body.policies.some((p: { key_id: string }) => p.key_id === a.inference.id), false);
  });

  it("leaves the org admin's own key limits the org admin's to change and remove", async () => {
    const a = await createTenant(t);
    const path = `/organizations/${a.org.id}/keys/${a.inference.id}/limits`;
    assert.equal((await t.admin('PUT', path, { requests_per_minute: 10 }, a.adminKey)).status, 200);
    assert.equal((await t.admin('PUT', path, { requests_per_minute: 100 }, a.adminKey)).status, 200);
    const cleared = await t.admin('PUT', path, {}, a.adminKey);
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.body.policies.length, 0);
  });
});

describe('audit log', () => {
  it("shows tenants who changed what, but not the operators' IP address or user agent", async () => {
    const a = await createTenant(t);
    const userAgent = `operator-console/${Date.now()}`;
    const res = await fetch(`${t.url}/admin/v1/organizations/${a.org.id}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json', 'user-agent': userAgent },
      body: JSON.stringify({ name: 'made by the operator' }),
    });
    assert.equal(res.status, 201);

    const asTenant = await t.admin('GET', `/audit-log?org_id=${a.org.id}&limit=100`, undefined, a.adminKey);
    assert.equal(asTenant.status, 200, asTenant.text);
    assert.ok(asTenant.body.data.length >= 3);
    assert.ok(!asTenant.text.includes(userAgent), 'the operator user agent is hidden');
    for (const entry of asTenant.body.data) {
      assert.equal(entry.source.ip, null);
      assert.equal(entry.source.user_agent, null);
      assert.ok(entry.action && entry.actor, 'who and what are still shown');
    }
    const asPlatform = await t.admin('GET', `/audit-log?org_id=${a.org.id}&limit=100`);
    const entry = asPlatform.body.data.find((e: { source: { user_agent: string } }) => e.source.user_agent === userAgent);
    assert.ok(entry, 'platform admins see where a change came from');
    assert.ok(entry.source.ip);
  });
});
