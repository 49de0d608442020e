// Which trailer fields may travel on to the client. RFC 9110 §6.5.1: fields a recipient needs before
// the content (framing, routing, authentication, request modifiers, response controls, content
// format) must not be sent as trailers, and a recipient may discard trailers (§6.5.2). Both edge
// engines call this once the body has ended, right before writing the last chunk (h1) or the
// trailing HEADERS frame (h2), so a trailer can never change framing already sent.
import { HOP_BY_HOP } from './headers.ts';

/** Never forwarded as a trailer: hop-by-hop and connection-level fields, then §6.5.1's categories. */
const NOT_TRAILERS: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP, // connection, keep-alive, te, trailer, transfer-encoding, upgrade, proxy-auth…
  // framing and content format (RFC 9112 §6, RFC 9110 §8)
  'content-length', 'content-type', 'content-encoding', 'content-range', 'content-location', 'content-language',
  // routing and request modifiers (RFC 9110 §7.2, §10.1)
  'host', 'expect', 'max-forwards', 'range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range',
  // authentication and state (RFC 9110 §11, RFC 6265)
  'authorization', 'www-authenticate', 'authentication-info', 'proxy-authentication-info', 'cookie', 'set-cookie',
  // response controls (RFC 9110 §10.2, RFC 9111 §5, RFC 6797)
  'cache-control', 'expires', 'age', 'date', 'pragma', 'vary', 'location', 'retry-after', 'etag', 'last-modified',
  'strict-transport-security', 'x-request-id',
]);

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** field-value characters (RFC 9110 §5.5): no CR, LF, NUL or other controls that could split the message. */
const BAD_VALUE_RE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * The fields of `trailers` that may be sent on, names lowercased; null when none remain. A field
 * with an invalid name or value is dropped alone: the head is already out, so the rest still goes.
 */
export function forwardableTrailers(trailers: Readonly<Record<string, string | readonly string[]>> | null | undefined): Record<string, string> | null {
  if (trailers === null || trailers === undefined) return null;
  let out: Record<string, string> | null = null;
  for (const raw in trailers) {
    const name = raw.toLowerCase();
    if (NOT_TRAILERS.has(name) || !TOKEN_RE.test(name) || name === '__proto__') continue;
    const v = trailers[raw];
    // Repeated trailer lines combine like header lines (RFC 9110 §5.3).
    const value = typeof v === 'string' ? v : v.join(', ');
    if (BAD_VALUE_RE.test(value)) continue;
    (out ??= {})[name] = value;
  }
  return out;
}

/** The trailer section of a chunked h1 message: `name: value` lines, or '' (RFC 9112 §7.1.2). */
export function trailerSection(trailers: Record<string, string> | null): string {
  let out = '';
  if (trailers !== null) for (const name in trailers) out += name + ': ' + trailers[name] + '\r\n';
  return out;
}
