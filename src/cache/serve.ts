// Turning a stored response into the response a client gets: Age (RFC 9111 §4.2.3), a 304 for a
// matching client conditional (§4.3.2), no content for HEAD, and the visibility headers.
import type { PorticoRequest, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import { notModified, notModifiedHeaders } from './conditional.ts';
import type { StoredResponse } from './store.ts';
import { isRanged, rangeFromStore } from './range.ts';

/**
 * RFC 9211 Cache-Status, appended to any list an upstream cache sent (the last member is the cache
 * nearest the client, §2), plus the older `X-Cache` that many tools read.
 */
export function addStatus(headers: ResponseHeaders, cacheName: string, params: string, xCache: 'HIT' | 'MISS' | 'STALE' | 'PASS'): void {
  const mine = params === '' ? cacheName : `${cacheName}; ${params}`;
  const existing = headers['cache-status'];
  headers['cache-status'] = existing === undefined ? mine : `${Array.isArray(existing) ? existing.join(', ') : existing}, ${mine}`;
  headers['x-cache'] = xCache;
}

export function fromStore(req: PorticoRequest, e: StoredResponse, ageMs: number): PorticoResponse {
  const age = String(Math.max(0, Math.floor(ageMs / 1000)));
  if (e.status === 200 && notModified(req.headers, e.headers)) {
    const headers = notModifiedHeaders(e.headers);
    headers['age'] = age;
    return { status: 304, headers, body: null };
  }
  const headers: ResponseHeaders = { ...e.headers, age };
  // RFC 9110 §13.2.2: Range is evaluated after the other preconditions.
  if (isRanged(req)) {
    const partial = rangeFromStore(req, e, headers);
    if (partial !== null) return partial;
  }
  headers['content-length'] = String(e.body.byteLength);
  return { status: e.status, headers, body: req.method === 'HEAD' ? null : e.body };
}
