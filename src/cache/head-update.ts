// RFC 9111 §4.3.5: a HEAD the cache forwards brings back the current metadata of the resource, so a
// 200 to it freshens each stored GET response that could have been chosen for that request — when
// its validators and length agree — and marks the others stale (the resource has changed since
// they were stored; the next GET validates them first). A HEAD response itself is never stored.
import type { Handler, PorticoRequest, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import type { RequestContext } from '../http/context.ts';
import { header, httpDate } from './freshness.ts';
import { mergeNotModified } from './conditional.ts';
import type { CacheStore, StoredResponse } from './store.ts';

/** Forwards a HEAD and applies its 200 to the stored GET responses it could have selected (`candidates`). */
export async function forwardHead(
  store: CacheStore, now: () => number, primary: string, req: PorticoRequest, ctx: RequestContext, next: Handler,
  candidates: readonly StoredResponse[],
): Promise<PorticoResponse> {
  const requestTime = now();
  const res = await next(req, ctx);
  if (res.status !== 200 || candidates.length === 0) return res;
  const responseTime = now();
  for (const stored of candidates) await store.put(primary, afterHead(stored, res.headers, requestTime, responseTime));
  return res;
}

/** The stored response as a HEAD response with `head` fields leaves it: freshened, or marked stale. */
export function afterHead(stored: StoredResponse, head: ResponseHeaders, requestTime: number, responseTime: number): StoredResponse {
  if (!headAgrees(stored, head)) return { ...stored, invalidated: true };
  // §3.2 via §4.3.5: the HEAD's fields replace the stored ones; the times restart the age (§4.2.3).
  const { invalidated: _stale, ...rest } = stored;
  return { ...rest, headers: mergeNotModified(stored.headers, head), requestTime, responseTime };
}

/**
 * §4.3.5: every validator the HEAD response carries (ETag, Last-Modified) matches the stored one,
 * and its Content-Length, when present, is the stored body's length.
 */
function headAgrees(stored: StoredResponse, head: ResponseHeaders): boolean {
  const etag = header(head, 'etag');
  if (etag !== undefined && etag !== header(stored.headers, 'etag')) return false;
  const lm = header(head, 'last-modified');
  if (lm !== undefined) {
    const at = httpDate(lm);
    if (at === undefined || at !== httpDate(header(stored.headers, 'last-modified'))) return false;
  }
  const length = header(head, 'content-length');
  return length === undefined || length.trim() === String(stored.body.byteLength);
}
