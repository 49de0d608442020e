// Conditional requests around the cache: answering a client's own conditionals from a stored
// response (RFC 9110 §13.2.2, RFC 9111 §4.3.2), asking the origin to validate a stale one
// (RFC 9111 §4.3.1), and folding a 304 into the stored response (§4.3.4, §3.2).
import type { RequestHeaders, ResponseHeaders } from '../http/types.ts';
import { header, httpDate } from './freshness.ts';
import { fieldNames, parseCacheControl } from './cache-control.ts';

/** RFC 9110 §8.8.3.2 weak comparison: opaque tags equal, W/ prefixes ignored. */
function weakMatch(list: string, etag: string | undefined): boolean {
  if (etag === undefined) return false;
  if (list.trim() === '*') return true;
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  const want = opaque(etag);
  return list.split(',').some((t) => opaque(t) === want);
}

/** Whether a client's GET/HEAD conditionals make a stored 200 answer 304 (RFC 9110 §13.2.2 order). */
export function notModified(req: RequestHeaders, stored: ResponseHeaders): boolean {
  const inm = req['if-none-match'];
  if (inm !== undefined) return weakMatch(inm, header(stored, 'etag'));
  const ims = httpDate(req['if-modified-since']);
  if (ims === undefined) return false;
  const lm = httpDate(header(stored, 'last-modified')) ?? httpDate(header(stored, 'date'));
  return lm !== undefined && lm <= ims;
}

/** RFC 9110 §15.4.5: the fields a 304 carries from the response it stands for. */
const KEPT_BY_304 = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified', 'cache-tag', 'surrogate-key'];

export function notModifiedHeaders(stored: ResponseHeaders): ResponseHeaders {
  const out: ResponseHeaders = {};
  for (const name of KEPT_BY_304) if (stored[name] !== undefined) out[name] = stored[name];
  return out;
}

const CLIENT_CONDITIONALS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range'];

/**
 * The request that validates a stored response (§4.3.1): the client's own conditionals are
 * removed (the cache answers those itself from the result) and the stored validators sent instead.
 * Undefined when the stored response has no validator (then only a full fetch will do).
 */
export function validationHeaders(req: RequestHeaders, stored: ResponseHeaders): RequestHeaders | undefined {
  const etag = header(stored, 'etag');
  const lastModified = header(stored, 'last-modified');
  if (etag === undefined && lastModified === undefined) return undefined;
  const out = withoutConditionals(req);
  if (etag !== undefined) out['if-none-match'] = etag;
  if (lastModified !== undefined) out['if-modified-since'] = lastModified;
  return out;
}

/** A miss fetches the complete response: the cache evaluates the client's conditionals itself. */
export function withoutConditionals(req: RequestHeaders): RequestHeaders {
  const out: RequestHeaders = { ...req };
  for (const name of CLIENT_CONDITIONALS) delete out[name];
  return out;
}

/**
 * §4.3.4 + §3.2: every field of the 304 (or of a HEAD 200, §4.3.5) replaces the stored one, except
 * Content-Length (it describes no content here) and the cache's own fields. What the storage
 * decision keeps out of a stored response stays out here too: Set-Cookie (one user's cookie must
 * not reach the next) and the fields named by `private="…"` / `no-cache="…"` (§5.2.2.7, §5.2.2.4).
 */
export function mergeNotModified(stored: ResponseHeaders, fresh: ResponseHeaders): ResponseHeaders {
  const out: ResponseHeaders = { ...stored };
  for (const name in fresh) {
    if (name === 'content-length' || name === 'cache-status' || name === 'x-cache' || name === 'set-cookie') continue;
    out[name] = fresh[name];
  }
  const cc = parseCacheControl(out['cache-control']);
  for (const name of [...(fieldNames(cc, 'private') ?? []), ...(fieldNames(cc, 'no-cache') ?? [])]) delete out[name];
  return out;
}

/**
 * §4.3.4: a 304 selects the stored response by its ETag when it carries one; otherwise by its
 * Last-Modified when it carries one; a 304 with neither updates the one response we validated.
 */
export function validatorsAgree(stored: ResponseHeaders, fresh: ResponseHeaders): boolean {
  const etag = header(fresh, 'etag');
  if (etag !== undefined) return etag === header(stored, 'etag');
  const lm = header(fresh, 'last-modified');
  return lm === undefined || httpDate(lm) === httpDate(header(stored, 'last-modified'));
}
