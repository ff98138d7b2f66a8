/**
 * The prefix-cache salt of an organization (vLLM's per-request `cache_salt`, which seeds the hash of a
 * prompt's first KV block, so requests with different salts never share cached blocks).
 *
 * Without it, `usage.prompt_tokens_details.cached_tokens` (and time to first token) tell a tenant
 * whether anyone else on the pod recently sent the same prefix: a cross-tenant side channel. The salt
 * is a keyed hash of the organization id, never the id itself: runtimes and their logs learn nothing
 * about tenants, and nobody without the server's key pepper can compute another organization's salt.
 * A client's own `cache_salt` (to split its organization's cache further, e.g. per end user) is
 * namespaced by its organization the same way: it cannot reach another organization's blocks.
 *
 * 256 bits, base64url (43 characters): vLLM's documented recommendation for a salt.
 */
import { createHmac } from 'node:crypto';

/** Version tag and separators keep this use of the pepper apart from API-key hashing (a bare key). */
const DOMAIN = 'switchyard/cache-salt/v1\u0000';

export function organizationCacheSalt(pepper: string, orgId: string, clientSalt?: string): string {
  return createHmac('sha256', pepper)
    .update(`${DOMAIN}${orgId}\u0000${clientSalt ?? ''}`)
    .digest('base64url');
}
