// The h2 request head as the layers expect it from HTTP/1.1: pseudo-header fields dropped,
// `:authority` as Host, repeated fields joined. node:http2 hands the 'stream' event a plain
// (prototype-less) object whose names are already lowercase (RFC 9113 §8.2.1).
import type { IncomingHttpHeaders } from 'node:http2';
import type { RequestHeaders } from '../../http/types.ts';

/**
 * `:authority` becomes Host (RFC 9113 §8.3.1: it takes precedence over a Host field); split
 * `cookie` fields are joined with "; " (RFC 9113 §8.2.3), other repeated fields with ", " (RFC
 * 9110 §5.3).
 */
export function requestFields(raw: IncomingHttpHeaders): RequestHeaders {
  const headers: RequestHeaders = {};
  for (const name in raw) {
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    const value = raw[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  const authority = raw[':authority'];
  if (typeof authority === 'string' && authority !== '') headers.host = authority;
  return headers;
}

/** The host part of an authority, lowercased, without its port; IPv6 literals keep their brackets. */
export function authorityHost(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1).toLowerCase();
  const colon = authority.indexOf(':');
  return (colon === -1 ? authority : authority.slice(0, colon)).toLowerCase();
}
