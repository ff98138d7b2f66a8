/**
 * Gateways for the tenancy suites: real PostgreSQL and Redis, the whole Nest app over HTTP, and a
 * catalogue whose pool points at a closed port (authentication is decided before any pod is called, so
 * these suites need no simulator). Helpers drive the admin API as a real client would.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { loadConfig, parseCatalogue } from '../../src/config/index.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { TEST_ADMIN_KEY, TEST_KEY_PEPPER } from '../support/harness.js';

export { TEST_ADMIN_KEY } from '../support/harness.js';

export const NO_IP_THROTTLE = { SWITCHYARD_IP_REQUESTS_PER_MINUTE: '0', SWITCHYARD_ADMIN_IP_REQUESTS_PER_MINUTE: '0', SWITCHYARD_AUTH_FAILURES_PER_MINUTE: '0' };

/** Nothing listens here: a request that gets past auth and routing fails with a 5xx, never 401/403/404. */
const DEAD_POD = 'http://127.0.0.1:9';

export interface Reply<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface TenancyGateway {
  gateway: Gateway;
  url: string;
  /** Catalogue names: two chat models (the first with an alias) and an embedding model. */
  models: { chat: string; alias: string; other: string; embed: string };
  request<T = any>(method: string, path: string, key: string | undefined, body?: unknown): Promise<Reply<T>>;
  /** An admin API call (`/admin/v1` + path), as the platform admin unless `key` is given. */
  admin<T = any>(method: string, path: string, body?: unknown, key?: string): Promise<Reply<T>>;
  close(): Promise<void>;
}

export function tenancyCatalogue(suffix: string) {
  return parseCatalogue(
    {
      pools: [
        { name: `t-chat-${suffix}`, runtime: 'sim', provider: 'static', servedModel: 'm', endpoints: [DEAD_POD] },
        { name: `t-embed-${suffix}`, runtime: 'sim', provider: 'static', servedModel: 'e', endpoints: [DEAD_POD] },
      ],
      models: [
        { name: `chat-${suffix}`, aliases: [`alias-${suffix}`], pool: `t-chat-${suffix}`, contextWindow: 4096, tokenizer: 'llama3' },
        { name: `other-${suffix}`, pool: `t-chat-${suffix}`, contextWindow: 4096, tokenizer: 'llama3' },
        { name: `embed-${suffix}`, kind: 'embedding', pool: `t-embed-${suffix}`, contextWindow: 4096, tokenizer: 'llama3' },
      ],
    },
    'tenancy test catalogue',
  );
}

export async function bootTenancyGateway(opts: { suffix?: string; env?: Record<string, string>; logger?: Logger } = {}): Promise<TenancyGateway> {
  const suffix = opts.suffix ?? randomBytes(3).toString('hex');
  const config = loadConfig(
    {
      SWITCHYARD_DATABASE_URL: process.env.SWITCHYARD_DATABASE_URL,
      SWITCHYARD_REDIS_URL: process.env.SWITCHYARD_REDIS_URL,
      SWITCHYARD_KEY_PEPPER: TEST_KEY_PEPPER,
      SWITCHYARD_BOOTSTRAP_API_KEY: TEST_ADMIN_KEY,
      SWITCHYARD_PORT: '0',
      SWITCHYARD_UPSTREAM_CONNECT_TIMEOUT_MS: '200',
      // The per-IP edge throttle counts every test gateway's traffic from 127.0.0.1 together (one Redis);
      // these suites test authentication, so it stays out of the way.
      ...NO_IP_THROTTLE,
      ...opts.env,
    },
    tenancyCatalogue(suffix),
  );
  const gateway = await startGateway(config, opts.logger ?? createLogger(process.env.SWITCHYARD_LOG_LEVEL ?? 'silent'));
  const request = async (method: string, path: string, key: string | undefined, body?: unknown): Promise<Reply> => {
    const headers: Record<string, string> = {};
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${gateway.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
  return {
    gateway,
    url: gateway.url,
    models: { chat: `chat-${suffix}`, alias: `alias-${suffix}`, other: `other-${suffix}`, embed: `embed-${suffix}` },
    request,
    admin: (method, path, body, key = TEST_ADMIN_KEY) => request(method, `/admin/v1${path}`, key, body),
    close: () => gateway.shutdown(),
  };
}

export interface OrgView {
  id: string;
  name: string;
  tier: string;
  status: string;
  allowed_models: string[] | null;
}

export interface KeyView {
  id: string;
  org_id: string;
  prefix: string;
  scopes: string[];
  status: string;
  secret: string;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

/** A new organization, made by the platform admin through the admin API. */
export async function createOrg(t: TenancyGateway, body: Record<string, unknown> = {}): Promise<OrgView> {
  const res = await t.admin<OrgView>('POST', '/organizations', { name: `org ${randomBytes(3).toString('hex')}`, ...body });
  if (res.status !== 201) throw new Error(`creating an organization failed: ${res.status} ${res.text}`);
  return res.body;
}

/** A new key in `orgId` (default scope: inference), made by `asKey` (default: the platform admin). */
export async function createKey(t: TenancyGateway, orgId: string, body: Record<string, unknown> = {}, asKey?: string): Promise<KeyView> {
  const res = await t.admin<KeyView>('POST', `/organizations/${orgId}/keys`, { name: 'test key', ...body }, asKey);
  if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${res.text}`);
  return res.body;
}

/** An organization with an inference key and an org-admin key. */
export async function createTenant(t: TenancyGateway, orgBody: Record<string, unknown> = {}) {
  const org = await createOrg(t, orgBody);
  const inference = await createKey(t, org.id, { name: 'inference' });
  const admin = await createKey(t, org.id, { name: 'org admin', scopes: ['org_admin'] });
  return { org, inferenceKey: inference.secret, inference, adminKey: admin.secret, admin };
}

export async function waitUntil(predicate: () => Promise<boolean>, timeoutMs: number, intervalMs = 5): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await predicate()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function chatBody(model: string) {
  return { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 };
}
