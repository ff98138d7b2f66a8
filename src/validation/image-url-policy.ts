/**
 * Which `image_url`s a chat request may carry. A runtime serving a vision model fetches an http(s)
 * image URL itself, from inside the cluster: any client could make it request internal addresses
 * (metadata services, admin ports) or huge files. So:
 *
 * - `data:image/<type>;base64,<data>` URLs are accepted (the image travels in the body; bounded by
 *   SWITCHYARD_MAX_IMAGE_URL_BYTES, and the body by SWITCHYARD_BODY_LIMIT_BYTES);
 * - http(s) URLs only when their host is on SWITCHYARD_IMAGE_URL_HOSTS (exact names, or `*.domain`
 *   for the hosts under a domain); the list is empty by default, so remote images are refused;
 * - anything else (file:, ftp:, other data: types) is refused.
 *
 * The gateway never fetches images itself: the allow-list is the operator's statement that the
 * runtimes may fetch from there. Refusals are 400 `invalid_image_url` naming the part's url.
 */
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';

/**
 * The data: URL header. The payload itself is not scanned: malformed base64 is the runtime's 400 to
 * give, fetches nothing, and checking every character of a 4 MiB image cost ~12 ms of event loop.
 */
const DATA_URL = /^data:image\/[a-z0-9.+-]+;base64,/i;

export class ImageUrlPolicy {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(
    hosts: readonly string[],
    private readonly maxChars: number,
  ) {
    for (const host of hosts) {
      if (host.startsWith('*.')) this.suffixes.push(host.slice(1));
      else this.exact.add(host);
    }
  }

  /** Throws a 400 naming `param` unless `url` may go to the runtime. */
  check(url: string, param: string): void {
    if (url.length > this.maxChars) {
      throw new ApiError(ErrorCode.InvalidImageUrl, `Image URL too long: ${url.length} characters; at most ${this.maxChars} are allowed.`, param);
    }
    if (url.startsWith('data:')) {
      if (!DATA_URL.test(url)) {
        throw new ApiError(ErrorCode.InvalidImageUrl, "Invalid image data URL: expected 'data:image/<type>;base64,<base64 data>'.", param);
      }
      return;
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      throw new ApiError(ErrorCode.InvalidImageUrl, 'Invalid image URL: expected an http(s) URL or a base64 data: URL.', param);
    }
    if (!this.allows(parsed.hostname.toLowerCase())) {
      throw new ApiError(
        ErrorCode.InvalidImageUrl,
        `Remote image URLs are not allowed for host '${parsed.hostname.slice(0, 253)}' on this server; send the image inline as a base64 data: URL.`,
        param,
      );
    }
  }

  private allows(host: string): boolean {
    return this.exact.has(host) || this.suffixes.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
  }
}
