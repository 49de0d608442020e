// The storage decision of a shared cache (RFC 9111 §3), as one predicate with a reason, so a
// response that is not stored can say why (Cache-Status `detail`, tests).
import type { PorticoRequest, ResponseHeaders } from '../http/types.ts';
import { deltaSeconds, fieldNames, type Directives } from './cache-control.ts';
import { HEURISTICALLY_CACHEABLE, header } from './freshness.ts';

/** Status codes whose caching rules this cache implements (RFC 9110 §15, RFC 9111 §3, §4.2.2), for must-understand. */
const UNDERSTOOD = new Set([...HEURISTICALLY_CACHEABLE, 302, 303, 307]);

export type StorageDecision = { store: true; strip: string[] } | { store: false; reason: string };

/**
 * `strip` lists fields a shared cache must not keep: those named by a qualified `private="…"`
 * (§5.2.2.7) and `no-cache="…"` (§5.2.2.4: they may not be reused without revalidation, and we
 * would rather not keep them than revalidate every time).
 */
export function storageDecision(req: PorticoRequest, reqCc: Directives, status: number, h: ResponseHeaders, cc: Directives): StorageDecision {
  // §3: the request method is understood and cacheable; a HEAD response has no content to keep.
  if (req.method !== 'GET') return { store: false, reason: 'method' };
  // §3: final responses only; 206 and 304 are not complete responses to keep (§3.3, §4.3.4 handle them apart).
  if (status < 200 || status === 206 || status === 304) return { store: false, reason: 'status' };
  // §5.2.2.3: must-understand limits storing to caches that implement the status code's caching
  // rules; one that does ignores the response's no-store (sent for caches that do not).
  const mustUnderstand = cc.has('must-understand');
  if (mustUnderstand && !UNDERSTOOD.has(status)) return { store: false, reason: 'must-understand' };
  // §3: no-store in the request or in the response.
  if (reqCc.has('no-store') || (cc.has('no-store') && !mustUnderstand)) return { store: false, reason: 'no-store' };
  // §3, §5.2.2.7: a shared cache stores no response marked private (the unqualified form).
  const privateFields = fieldNames(cc, 'private');
  if (cc.has('private') && privateFields === undefined) return { store: false, reason: 'private' };
  // §3.5: a response to a request with Authorization is kept only when the origin says a shared cache may.
  if (req.headers['authorization'] !== undefined && !cc.has('must-revalidate') && !cc.has('public') && !cc.has('s-maxage')) {
    return { store: false, reason: 'authorization' };
  }
  // §4.1: `Vary: *` never matches a later request; keeping it would only take room.
  const vary = header(h, 'vary');
  if (vary !== undefined && vary.split(',').some((v) => v.trim() === '*')) return { store: false, reason: 'vary-star' };
  // Set-Cookie: the RFC allows storing it, but a shared cache that hands one user's cookie to the
  // next is the classic cache leak; like Varnish we do not store such responses.
  if (h['set-cookie'] !== undefined) return { store: false, reason: 'set-cookie' };
  // §3: the response has explicit freshness, `public`, or a status that is cacheable by default.
  const explicit = cc.has('public') || h['expires'] !== undefined || deltaSeconds(cc, 'max-age') !== undefined ||
    deltaSeconds(cc, 's-maxage') !== undefined || cc.has('max-age') || cc.has('s-maxage');
  if (!explicit && !HEURISTICALLY_CACHEABLE.has(status)) return { store: false, reason: 'status' };
  // Our own bound: the body is kept whole, so an unknown status class or a message without any
  // way to be reused (no lifetime, no validator) is not worth keeping; that is checked by the caller.
  return { store: true, strip: [...(privateFields ?? []), ...(fieldNames(cc, 'no-cache') ?? [])] };
}
