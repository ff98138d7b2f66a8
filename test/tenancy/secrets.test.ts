/**
 * Keys never leave as anything but their display prefix: not in logs (at the most verbose level, with no
 * redaction configured, so only our own care keeps them out), not in metrics, not in admin listings.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { generateApiKey } from '../../src/tenancy/api-key.secret.js';
import { type TenancyGateway, bootTenancyGateway, chatBody, createTenant } from './support.js';

const lines: string[] = [];
let t: TenancyGateway;

before(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  t = await bootTenancyGateway({ logger: pino({ level: 'trace' }, sink) });
});
after(async () => {
  await t?.close();
});

describe('key secrecy', () => {
  it('keeps every key out of logs and metrics, logging only display prefixes', async () => {
    const { org, inference, inferenceKey, adminKey } = await createTenant(t);
    const wrong = generateApiKey();
    const foreign = 'sk-proj-NOT-A-SWITCHYARD-KEY-abcdefghijklmnop';

    await t.request('GET', '/v1/models', inferenceKey);
    await t.request('POST', '/v1/chat/completions', inferenceKey, chatBody(t.models.chat)); // fails upstream: logged
    await t.request('POST', '/v1/chat/completions', wrong, chatBody(t.models.chat));
    await t.request('POST', '/v1/chat/completions', foreign, chatBody(t.models.chat));
    await t.admin('GET', `/organizations/${org.id}/keys`, undefined, adminKey);
    const rotated = await t.admin('POST', `/organizations/${org.id}/keys/${inference.id}/rotate`, undefined, adminKey);
    await t.request('POST', '/v1/chat/completions', inferenceKey, chatBody(t.models.chat)); // now revoked
    await t.request('GET', '/v1/models', rotated.body.secret);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();

    const logs = lines.join('');
    // The logs were captured, and the access log names keys by prefix.
    assert.ok(logs.includes(`"key":"${inferenceKey.slice(0, 14)}"`), 'access log shows the display prefix');
    assert.match(metrics, /switchyard_auth_rejections_total\{reason="unknown"\}/);
    for (const secret of [inferenceKey, adminKey, wrong, rotated.body.secret]) {
      const hidden = secret.slice(14); // everything after the display prefix
      assert.ok(!logs.includes(hidden), `a key appeared in the logs: ${secret.slice(0, 14)}…`);
      assert.ok(!metrics.includes(hidden), `a key appeared in the metrics: ${secret.slice(0, 14)}…`);
    }
    assert.ok(!logs.includes(foreign) && !logs.includes('NOT-A-SWITCHYARD'), 'a pasted foreign secret appeared in the logs');
    assert.ok(!metrics.includes(inferenceKey.slice(0, 14)), 'metrics carry no per-key labels');
  });
});
