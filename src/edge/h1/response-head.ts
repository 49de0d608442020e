// The response head as one string, framing decided here and nowhere else (RFC 9112 §6): layers'
// framing and hop-by-hop fields are dropped, names and values validated so no layer or upstream
// can split the response (RFC 9110 §5.5, RFC 9112 §4).
import { Readable } from 'node:stream';
import type { PorticoResponse } from '../../http/types.ts';
import { parseContentLength, serializeFields, statusLine } from './http1-syntax.ts';

export interface ResponsePlan {
  head: string;
  /** The bytes to send after the head (null: none). */
  bytes: Uint8Array | null;
  /** A body to stream; `chunked` frames it, else `length` bytes exactly (-1: until close). */
  stream: Readable | null;
  chunked: boolean;
  length: number;
  keepAlive: boolean;
  /** Trailers for the last chunk (RFC 9112 §7.1.2); only a chunked stream carries them. */
  trailers: Promise<Record<string, string> | null> | null;
}

/** null when a field name or value, or the status, cannot be sent as is. */
export function planResponse(res: PorticoResponse, method: string, httpVersion: string, keepAlive: boolean): ResponsePlan | null {
  const status = res.status;
  if (!Number.isInteger(status) || status < 200 || status > 599) return null;
  const fields = serializeFields(res.headers, res.checkedFields ?? null);
  if (fields === null) return null;
  let head = statusLine(status) + fields;
  const body = res.body;
  const plan: ResponsePlan = { head: '', bytes: null, stream: null, chunked: false, length: 0, keepAlive, trailers: null };
  const declared = res.headers['content-length'];
  // RFC 9112 §6.3 rule 1 / RFC 9110 §9.3.2: HEAD, 204 and 304 carry no content; HEAD and 304 keep
  // the Content-Length the full response would have had (RFC 9110 §8.6).
  if (method === 'HEAD' || status === 204 || status === 304) {
    if (status !== 204 && typeof declared === 'string' && parseContentLength(declared) >= 0) head += 'content-length: ' + declared + '\r\n';
    else if (method === 'HEAD' && status !== 204 && status !== 304 && body !== null && !(body instanceof Readable)) {
      head += 'content-length: ' + (typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength) + '\r\n';
    }
  } else if (body === null) head += 'content-length: 0\r\n';
  else if (typeof body === 'string' || body instanceof Uint8Array) {
    plan.bytes = typeof body === 'string' ? Buffer.from(body) : body;
    head += 'content-length: ' + plan.bytes.byteLength + '\r\n';
  } else {
    plan.stream = body;
    const n = typeof declared === 'string' ? parseContentLength(declared) : -1;
    plan.length = n;
    if (n >= 0) head += 'content-length: ' + n + '\r\n';
    else if (httpVersion === '1.1') {
      head += 'transfer-encoding: chunked\r\n';
      plan.chunked = true;
      plan.trailers = res.trailers ?? null;
    } else plan.keepAlive = false; // HTTP/1.0: the close delimits the body (RFC 9112 §6.3 rule 8)
  }
  const connection = res.headers.connection;
  // A layer asking to close (a 413 that will not read the rest of the body, RFC 9110 §15.5.14).
  if (typeof connection === 'string' && /(^|,)\s*close\s*(,|$)/i.test(connection)) plan.keepAlive = false;
  if (status === 413) plan.keepAlive = false;
  if (!plan.keepAlive) head += 'connection: close\r\n';
  else if (httpVersion === '1.0') head += 'connection: keep-alive\r\n';
  plan.head = head + '\r\n';
  return plan;
}
