/** What the catalogue suites (models and pools through the admin API) share. */
import OpenAI from 'openai';
import { TEST_ADMIN_KEY, type TestGateway } from '../support/harness.js';

/** One admin API call: status and parsed body. */
export async function admin(gw: TestGateway, method: string, path: string, body?: unknown, key = TEST_ADMIN_KEY) {
  const res = await fetch(`${gw.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

export const chat = (gw: TestGateway, model: string, content = 'hi') =>
  gw.client.chat.completions.create({ model, messages: [{ role: 'user', content }], max_tokens: 2 });

/** 200 for a success, the HTTP status of an OpenAI error, 0 for anything else. */
export const statusOf = (p: Promise<unknown>) => p.then(() => 200, (e: unknown) => (e instanceof OpenAI.APIError ? (e.status ?? 0) : 0));
