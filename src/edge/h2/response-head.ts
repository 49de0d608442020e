// The head of an h2 response, checked before anything is sent: the same field rules as the
// HTTP/1.1 engine (src/edge/h1/response-head.ts), so a head one refuses with 502 the other refuses
// too; connection-specific fields dropped (RFC 9113 §8.2.2: malformed in h2), and the
// Content-Length decided here from the body the response really carries.
import { sensitiveHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import type { PorticoResponse } from '../../http/types.ts';
import { isFieldName, isFieldValue, parseContentLength } from '../h1/http1-syntax.ts';

/** RFC 9113 §8.2.2: fields that only mean something for one HTTP/1.1 connection. */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * Fields whose value is new in every response, sent as "literal never indexed" (RFC 7541 §6.2.3):
 * indexing a value that never repeats buys nothing and churns the HPACK dynamic table (evicting
 * fields that do repeat, such as content-type); nghttp2's insert-and-evict for these two was ~9% of
 * the h2 hello's CPU (bench/README.md, `tls`).
 */
const NEVER_INDEXED: readonly string[] = ['x-request-id', 'server-timing'];

export interface H2ResponsePlan {
  readonly fields: OutgoingHttpHeaders;
  /** The complete payload (null: none, END_STREAM on HEADERS). */
  readonly payload: Buffer | null;
  /** A body to stream instead (never with a payload). */
  readonly stream: Readable | null;
  /** Bytes the stream must carry exactly (its Content-Length), -1 when it has none. */
  readonly length: number;
}

/** null when the status or a field cannot be sent as is (the caller answers 502). */
export function planH2Response(r: PorticoResponse, method: string): H2ResponsePlan | null {
  const status = r.status;
  if (!Number.isInteger(status) || status < 200 || status > 599) return null;
  const fields: OutgoingHttpHeaders = { ':status': status };
  const headers = r.headers;
  for (const given in headers) {
    const value = headers[given];
    // h2 field names are lowercase (RFC 9113 §8.2.1); two layers' `Content-Type` and
    // `content-type` stay one field, the last, as node:http's setHeader folds them.
    const name = given.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (!isFieldName(name)) return null;
    if (typeof value === 'string') {
      if (!isFieldValue(value)) return null;
    } else if (Array.isArray(value)) {
      for (const item of value) if (typeof item !== 'string' || !isFieldValue(item)) return null;
    } else return null;
    fields[name] = value;
  }
  (fields as Record<symbol, unknown>)[sensitiveHeaders] = NEVER_INDEXED;
  const body = r.body;
  const declared = fields['content-length'];
  let payload: Buffer | null = null;
  let stream: Readable | null = null;
  let length = -1;
  // RFC 9110 §9.3.2, §15.3.5, §15.4.5: HEAD, 204 and 304 carry no content. HEAD and 304 keep the
  // Content-Length the full response would have had (§8.6); 204 must not send one.
  if (status === 204) delete fields['content-length'];
  else if (method === 'HEAD' || status === 304) {
    if (declared !== undefined && (typeof declared !== 'string' || parseContentLength(declared) < 0)) delete fields['content-length'];
    else if (declared === undefined && method === 'HEAD' && status !== 304 && (typeof body === 'string' || body instanceof Uint8Array)) {
      fields['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    }
  } else if (body === null) delete fields['content-length'];
  else if (typeof body === 'string' || body instanceof Uint8Array) {
    payload = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    fields['content-length'] = payload.length;
  } else {
    stream = body;
    length = typeof declared === 'string' ? parseContentLength(declared) : -1;
    if (length < 0) delete fields['content-length'];
  }
  return { fields, payload, stream, length };
}
