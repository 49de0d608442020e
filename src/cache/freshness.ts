// Freshness and age (RFC 9111 §4.2): how long a stored response may be served without asking the
// origin, and how old it is now. Times are ms on the cache's clock; HTTP's own unit is seconds.
import type { ResponseHeaders } from '../http/types.ts';
import { deltaSeconds, parseCacheControl, type Directives } from './cache-control.ts';

/** RFC 9110 §15.1: status codes a cache may store with heuristic freshness. 206 is left out: we store complete responses only. */
export const HEURISTICALLY_CACHEABLE = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

export interface HeuristicOptions {
  /** Fraction of (Date − Last-Modified) taken as the lifetime (RFC 9111 §4.2.2 suggests 10%). */
  fraction: number;
  /** Upper bound for a heuristic lifetime, ms. */
  max: number;
}

export function header(h: ResponseHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** An HTTP-date (RFC 9110 §5.6.7) as ms, or undefined when it does not parse. */
export function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Freshness lifetime in ms for a shared cache (RFC 9111 §4.2.1): s-maxage, then max-age, then
 * Expires − Date, then a heuristic (§4.2.2) only when nothing explicit was given.
 */
export function freshnessLifetime(status: number, h: ResponseHeaders, cc: Directives, responseTime: number, heuristic: HeuristicOptions): number {
  const sMaxAge = deltaSeconds(cc, 's-maxage');
  if (sMaxAge !== undefined) return sMaxAge * 1000;
  const maxAge = deltaSeconds(cc, 'max-age');
  if (maxAge !== undefined) return maxAge * 1000;
  // A present but invalid max-age means "stale" (§4.2.1 "invalid … treated as stale"; §5.2.2.1).
  if (cc.has('max-age') || cc.has('s-maxage')) return 0;
  const expires = header(h, 'expires');
  if (expires !== undefined) {
    // §5.3: an invalid Expires (e.g. "0") means already expired.
    const at = httpDate(expires);
    if (at === undefined) return 0;
    const date = httpDate(header(h, 'date')) ?? responseTime;
    return Math.max(0, at - date);
  }
  // §4.2.2: heuristics only for heuristically cacheable codes or when marked public.
  if (!HEURISTICALLY_CACHEABLE.has(status) && !cc.has('public')) return 0;
  const lastModified = httpDate(header(h, 'last-modified'));
  if (lastModified === undefined) return 0;
  const date = httpDate(header(h, 'date')) ?? responseTime;
  return Math.min(heuristic.max, Math.max(0, Math.floor((date - lastModified) * heuristic.fraction)));
}

/** Whether a lifetime comes from a heuristic (no explicit freshness information). */
export function hasExplicitFreshness(h: ResponseHeaders, cc: Directives): boolean {
  return cc.has('s-maxage') || cc.has('max-age') || h['expires'] !== undefined;
}

export interface AgeInputs {
  headers: ResponseHeaders;
  requestTime: number;
  responseTime: number;
}

/** current_age per RFC 9111 §4.2.3, in ms. */
export function currentAge(e: AgeInputs, now: number): number {
  return correctedInitialAge(e) + now - e.responseTime;
}

/** corrected_initial_age per RFC 9111 §4.2.3, in ms: fixed once the response is received (entry-facts.ts keeps it). */
export function correctedInitialAge(e: AgeInputs): number {
  const ageHeader = header(e.headers, 'age');
  // §5.1: an Age that is not a non-negative integer is ignored.
  const ageValue = ageHeader !== undefined && /^\d+$/.test(ageHeader.trim()) ? Number(ageHeader.trim()) * 1000 : 0;
  const dateValue = httpDate(header(e.headers, 'date')) ?? e.responseTime;
  const apparentAge = Math.max(0, e.responseTime - dateValue);
  const responseDelay = e.responseTime - e.requestTime;
  const correctedAgeValue = ageValue + responseDelay;
  return Math.max(apparentAge, correctedAgeValue);
}

export function responseDirectives(h: ResponseHeaders): Directives {
  return parseCacheControl(h['cache-control']);
}
