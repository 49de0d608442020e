// RFC 7239 `Forwarded`: parsing what trusted hops sent, and the element we add for our own hop.
// Parsing is strict: a malformed header from a trusted proxy means we cannot tell which part the
// client wrote, so the caller falls back to the socket's peer.
import { isIP } from 'node:net';

export interface ForwardedElement {
  /** The `for` node: an IP address (IPv6 without brackets), or `unknown` / `_obfuscated` as sent. */
  for?: string;
  by?: string;
  host?: string;
  proto?: string;
}

// RFC 9110 §5.6.2 token characters.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Splits on `sep` outside quoted strings (RFC 9110 §5.6.4), or returns null on an unterminated
 * quote. Kept by hand: a regular expression cannot tell `;` inside `"…"` from a separator.
 */
function splitOutsideQuotes(value: string, sep: string): string[] | null {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === sep) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return null;
  parts.push(value.slice(start));
  return parts;
}

function unquote(value: string): string | null {
  if (!value.startsWith('"')) return TOKEN.test(value) ? value : null;
  if (value.length < 2 || !value.endsWith('"')) return null;
  return value.slice(1, -1).replace(/\\(.)/g, '$1');
}

/**
 * The node's address: `192.0.2.43`, `192.0.2.43:47011`, `[2001:db8::1]`, `[2001:db8::1]:4711`
 * (RFC 7239 §6). `unknown` and obfuscated `_names` are returned as they are; anything else is null.
 */
export function nodeAddress(node: string): string | null {
  if (node === 'unknown' || /^_[\w.-]+$/.test(node)) return node;
  if (node.startsWith('[')) {
    const end = node.indexOf(']');
    const rest = node.slice(end + 1);
    const address = node.slice(1, end);
    if (end === -1 || isIP(address) !== 6 || !(rest === '' || /^:(\d{1,5}|_[\w.-]+)$/.test(rest))) return null;
    return address;
  }
  const [address, port, extra] = node.split(':');
  if (extra !== undefined || isIP(address) !== 4 || !(port === undefined || /^(\d{1,5}|_[\w.-]+)$/.test(port))) return null;
  return address;
}

/** The elements in order (leftmost = farthest from us), or null when any part is malformed. */
export function parseForwarded(value: string): ForwardedElement[] | null {
  const elements = splitOutsideQuotes(value, ',');
  if (elements === null) return null;
  const out: ForwardedElement[] = [];
  for (const element of elements) {
    if (element.trim() === '') continue; // empty list elements are allowed (RFC 9110 §5.6.1)
    const pairs = splitOutsideQuotes(element, ';');
    if (pairs === null) return null;
    const parsed: ForwardedElement = {};
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq === -1) return null;
      const name = pair.slice(0, eq).trim().toLowerCase();
      const raw = unquote(pair.slice(eq + 1).trim());
      if (!TOKEN.test(name) || raw === null) return null;
      if (name === 'for' || name === 'by') {
        const address = nodeAddress(raw);
        if (address === null) return null;
        parsed[name] = address;
      } else if (name === 'proto') {
        // RFC 7239 §5.4: a URI scheme name (RFC 3986 §3.1).
        if (!/^[a-z][a-z0-9+.-]*$/i.test(raw)) return null;
        parsed.proto = raw.toLowerCase();
      } else if (name === 'host') {
        parsed.host = raw;
      }
      // Unknown parameters are ignored, as RFC 7239 §5.5 allows extensions.
    }
    out.push(parsed);
  }
  return out;
}

/** One node for our own element: IPv6 in brackets and so quoted (RFC 7239 §6). */
function formatNode(address: string): string {
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) address = address.slice(7);
  return isIP(address) === 6 ? `"[${address}]"` : isIP(address) === 4 ? address : 'unknown';
}

/** A quoted-string when the value is not a token (host with a port is a token; IPv6 hosts are not). */
function formatValue(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** The element describing the hop from `peer` to us (RFC 7239 §4). */
export function forwardedElement(peer: string, proto: string, host: string | undefined): string {
  let element = `for=${formatNode(peer)};proto=${proto}`;
  if (host !== undefined && host !== '') element += `;host=${formatValue(host)}`;
  return element;
}
