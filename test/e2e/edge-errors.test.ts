/**
 * Errors raised by the framework rather than by our pipeline (Fastify's content-type, URL and routing
 * errors, @fastify/static's refusals, Nest's route-not-found) reach the client as OpenAI's error object
 * with the right status and type, and an x-request-id: never as a 500 or in Fastify's own shape.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { assertMatchesSchema } from '../support/openai-schema.js';
import { TEST_ADMIN_KEY, type TenancyGateway, bootTenancyGateway } from '../tenancy/support.js';

let t: TenancyGateway;
before(async () => {
  t = await bootTenancyGateway();
});
after(async () => {
  await t?.close();
});

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error: { message: string; type: string; param: string | null; code: string | null } };
}

/** A request sent as written: node:http neither normalises the path nor checks the content type. */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> {
  const { hostname, port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function assertOpenAiError(res: Raw, status: number, type: string, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assertMatchesSchema('ErrorResponse', res.body);
  assert.deepEqual([res.body.error.type, res.body.error.code], [type, code]);
  assert.match(String(res.headers['x-request-id']), /^req_/);
}

const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

describe('framework errors', () => {
  it('answers an unparseable Content-Type with 415 unsupported_media_type, on the admin API and on /v1', async () => {
    assertOpenAiError(await raw('POST', '/admin/v1/organizations', { ...admin, 'content-type': ';;;' }, '{}'), 415, 'invalid_request_error', 'unsupported_media_type');
    assertOpenAiError(await raw('POST', '/v1/chat/completions', { 'content-type': ';;;' }, '{}'), 415, 'invalid_request_error', 'unsupported_media_type');
  });

  it('answers malformed JSON on the admin API with 400 invalid_json', async () => {
    assertOpenAiError(await raw('POST', '/admin/v1/organizations', { ...admin, 'content-type': 'application/json' }, '{"name":'), 400, 'invalid_request_error', 'invalid_json');
  });

  it('answers a malformed or over-long URL with 400 invalid_request_error', async () => {
    assertOpenAiError(await raw('GET', '/admin/v1/organizations/%E0%A4%A', admin), 400, 'invalid_request_error', 'invalid_request_error');
    assertOpenAiError(await raw('GET', `/admin/v1/organizations/${'x'.repeat(150)}`, admin), 400, 'invalid_request_error', 'invalid_request_error');
  });

  it('answers a path outside the admin docs with 403 permission_error', async () => {
    assertOpenAiError(await raw('GET', '/admin/docs/%2e%2e/secret'), 403, 'permission_error', 'permission_denied');
  });

  it('answers an unknown route or method with 404 unknown_url, naming it', async () => {
    const res = await raw('DELETE', '/v1/chat/completions');
    assertOpenAiError(res, 404, 'invalid_request_error', 'unknown_url');
    assert.equal(res.body.error.message, 'Invalid URL (DELETE /v1/chat/completions)');
  });
});
