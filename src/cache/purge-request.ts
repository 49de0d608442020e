// The body of the admin API's `POST /cache/purge`: exactly one of `url` (absolute http(s) URL),
// `prefix` (a ban: every URL starting with it) or `tag` (Cache-Tag / Surrogate-Key).
import type { PurgeRequest } from './http-cache.ts';

/** A PurgeRequest, or a message saying what is wrong with the body. */
export function parsePurgeRequest(text: string): PurgeRequest | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'expected a JSON body like {"url": "http://host/path"}, {"prefix": "http://host/api/"} or {"tag": "product-1"}';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'expected a JSON object';
  const keys = Object.keys(body);
  if (keys.length !== 1 || !['url', 'prefix', 'tag'].includes(keys[0])) return 'expected exactly one of "url", "prefix" or "tag"';
  const value = (body as Record<string, unknown>)[keys[0]];
  if (typeof value !== 'string' || value === '') return `"${keys[0]}" must be a non-empty string`;
  if (keys[0] === 'tag') return { tag: value };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${keys[0]}" must be an absolute URL like "http://example.com/path"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${keys[0]}" must be an http or https URL`;
  return keys[0] === 'url' ? { url: value } : { prefix: value };
}
