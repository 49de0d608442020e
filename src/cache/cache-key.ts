// Cache keys (RFC 9111 §2, §4.1): the primary key is the method and target URI; `Vary` adds a
// secondary key from the request fields the response depends on.
import type { PorticoRequest, RequestHeaders, ResponseHeaders } from '../http/types.ts';
import type { RequestContext } from '../http/context.ts';
import { header } from './freshness.ts';

const UNRESERVED = /%([0-9A-Fa-f]{2})/g;

/**
 * The target normalised as RFC 3986 §6.2.2 allows without changing what it names: percent-encoded
 * unreserved characters decoded, other escapes in upper case. The query keeps its order (an origin
 * may care about it).
 */
export function normaliseTarget(target: string): string {
  if (!target.includes('%')) return target;
  return target.replace(UNRESERVED, (all, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : all.toUpperCase();
  });
}

/**
 * `GET https://host/target`. HEAD shares GET's key: a stored GET response answers a HEAD (RFC 9110 §9.3.2).
 * `extra` lists request fields added to the key by config (e.g. a tenant header).
 */
export function primaryKey(req: PorticoRequest, ctx: RequestContext, extra: readonly string[] = []): string {
  let key = `GET ${ctx.scheme}://${ctx.host}${normaliseTarget(req.target)}`;
  for (const name of extra) key += `\0${name}=${req.headers[name] ?? ''}`;
  return key;
}

/** The primary key of another URI on the same origin (for §4.4 invalidation of Location/Content-Location). */
export function primaryKeyOf(scheme: string, host: string, target: string): string {
  return `GET ${scheme}://${host}${normaliseTarget(target)}`;
}

/** Lowercased field names listed by `Vary`. */
export function varyNames(h: ResponseHeaders): string[] {
  const v = header(h, 'vary');
  if (v === undefined) return [];
  return v.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
}

/** §4.1: values compare after whitespace between list members is normalised; absent stays distinct from empty. */
function normaliseValue(v: string | undefined): string | undefined {
  return v === undefined ? undefined : v.split(',').map((s) => s.trim()).join(',');
}

export function varyValues(names: readonly string[], headers: RequestHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = normaliseValue(headers[name]);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** The secondary key: one string naming the variant. */
export function variantKey(names: readonly string[], values: Readonly<Record<string, string>>): string {
  if (names.length === 0) return '';
  return [...names].sort().map((n) => `${n}:${values[n] ?? '\u0000'}`).join('\n');
}

/** §4.1: a stored response matches when every field it varies on has the same value in the new request. */
export function varyMatches(names: readonly string[], stored: Readonly<Record<string, string>>, headers: RequestHeaders): boolean {
  for (const name of names) {
    if (stored[name] !== normaliseValue(headers[name])) return false;
  }
  return true;
}
