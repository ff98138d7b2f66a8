/**
 * API key secrets: `sk-sy-` + 43 base62 characters (256 random bits). The database holds only
 * HMAC-SHA256(pepper, key) and a display prefix. Authentication looks a key up by that hash alone, so a
 * wrong key costs the same whether or not its first characters match a real key's prefix.
 * What the gateway accepts is API_KEY_FORMAT (src/config: it is also the format of the bootstrap-key
 * setting); generated keys match it.
 */
import { randomInt } from 'node:crypto';

export const API_KEY_PREFIX = 'sk-sy-';
const SECRET_LENGTH = 43;
const DISPLAY_CHARS = 8;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function generateApiKey(): string {
  let secret = '';
  // randomInt is uniform (rejection sampling), so every character carries log2(62) bits.
  for (let i = 0; i < SECRET_LENGTH; i++) secret += BASE62[randomInt(BASE62.length)];
  return API_KEY_PREFIX + secret;
}

/** The part of a key that may be shown, stored in clear and logged: `sk-sy-` + 8 characters. */
export function displayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + DISPLAY_CHARS);
}
