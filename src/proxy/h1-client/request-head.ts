// The request head sent upstream, serialised into one string written in one go (RFC 9112 §3):
// origin-form target, the fields forward.ts built (end-to-end only), and our own framing: the
// client's Content-Length when known, else chunked for a body, nothing for no body.
import { HOP_BY_HOP } from '../../http/headers.ts';
import { FIELD_OWNED, TCHAR, fieldKinds, isFieldName } from '../../edge/h1/http1-syntax.ts';

/** Framing and connection fields are the client's alone (FIELD_OWNED); `expect` is answered by the edge (RFC 9110 §10.1.1). */
const OWN_FIELDS = fieldKinds([...HOP_BY_HOP, 'content-length', 'expect', 'host']);
/** RFC 9110 §5.5: no CR, LF or NUL in a value (a layer's value must not split the head); latin1 only. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/**
 * A method: a token (RFC 9110 §9.1). A loop over TCHAR rather than a regex: a method is a few
 * characters, which the loop reads in less time than a regex run takes to start.
 */
function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false; // past 0xff: undefined, refused
  return true;
}

/** request-target: no spaces or controls (RFC 9112 §3.2); bytes past 0x7f pass, as undici lets them (latin1 only). */
function isTarget(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

export interface RequestHeadInput {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A body follows (a stream, possibly empty) unless null. */
  readonly body: object | null;
}

/** Throws (a plain Error) when a field or the target would break the framing. */
export function serializeRequestHead(req: RequestHeadInput, defaultHost: string): string {
  const { method, path, headers } = req;
  if (!isToken(method) || !isTarget(path)) throw new Error('invalid request line for upstream');
  // RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host; an HTTP/1.0 client may have sent none.
  const host = headers['host'];
  if (host !== undefined && BAD_VALUE.test(host)) throw new Error('invalid host field for upstream');
  let head = method + ' ' + path + ' HTTP/1.1\r\nhost: ' + (host ?? defaultHost) + '\r\n';
  for (const name in headers) {
    const kind = OWN_FIELDS.get(name);
    if (kind === FIELD_OWNED) continue;
    const value = headers[name];
    if ((kind === undefined && !isFieldName(name)) || BAD_VALUE.test(value)) throw new Error(`invalid request field "${name}" for upstream`);
    head += name + ': ' + value + '\r\n';
  }
  const cl = headers['content-length'];
  if (req.body !== null) {
    head += sendsChunked(headers) ? 'transfer-encoding: chunked\r\n' : 'content-length: ' + cl + '\r\n';
  } else if (cl === '0' || ((method === 'POST' || method === 'PUT' || method === 'PATCH') && cl === undefined)) {
    // RFC 9110 §8.6: a user agent SHOULD send Content-Length for a bodiless request whose method
    // defines a meaning for content; servers (and undici) expect "0" there.
    head += 'content-length: 0\r\n';
  }
  return head + '\r\n';
}

/**
 * Whether a request body goes chunked: the edge validated the client's Content-Length (or
 * bufferRequest re-framed the body with one), which is kept; without one the body arrived chunked
 * (or over h2) and is re-chunked here, Transfer-Encoding being hop-by-hop.
 */
export function sendsChunked(headers: Readonly<Record<string, string>>): boolean {
  const cl = headers['content-length'];
  return cl === undefined || !DIGITS.test(cl);
}

const DIGITS = /^\d{1,15}$/;
