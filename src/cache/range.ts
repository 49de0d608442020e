// Range requests answered from a complete stored response (RFC 9110 §14, RFC 9111 §3.3 in reverse):
// the cache holds the whole representation, so any satisfiable byte range is a slice of it.
import type { PorticoRequest, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import { parseRange } from '../static/ranges.ts';
import { header, httpDate } from './freshness.ts';
import type { StoredResponse } from './store.ts';

/**
 * RFC 9110 §13.1.5: If-Range names the representation the client has; a range is served only when
 * it still matches: a strong ETag compared strongly, or a date equal to a Last-Modified that is
 * itself strong (at least a second before Date, §8.8.2.2).
 */
function ifRangeMatches(value: string, h: ResponseHeaders): boolean {
  const v = value.trim();
  if (v.startsWith('"') || v.startsWith('W/')) {
    const etag = header(h, 'etag');
    return etag !== undefined && !etag.startsWith('W/') && !v.startsWith('W/') && etag === v;
  }
  const since = httpDate(v);
  const lm = httpDate(header(h, 'last-modified'));
  const date = httpDate(header(h, 'date'));
  return since !== undefined && lm !== undefined && since === lm && date !== undefined && date - lm >= 1000;
}

/** Whether the request asks for ranges (RFC 9110 §14.2: Range is defined for GET only). */
export function isRanged(req: PorticoRequest): boolean {
  return req.method === 'GET' && req.headers['range'] !== undefined;
}

/** A complete response held in memory, as the client's Range asks for it: a 206, a 416, or the whole. */
export function rangedOrWhole(req: PorticoRequest, status: number, headers: ResponseHeaders, body: Uint8Array): PorticoResponse {
  return rangeFromStore(req, { status, headers, body }, { ...headers }) ?? { status, headers, body };
}

/** A 206 (one range, or multipart/byteranges for several), a 416, or null for "send the whole". */
export function rangeFromStore(req: PorticoRequest, e: Pick<StoredResponse, 'status' | 'headers' | 'body'>, headers: ResponseHeaders): PorticoResponse | null {
  if (e.status !== 200) return null;
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && !ifRangeMatches(ifRange, e.headers)) return null;
  const size = e.body.byteLength;
  const ranges = parseRange(req.headers['range'], size);
  if (ranges === null) return null;
  if (ranges === 'unsatisfiable') {
    // §15.5.17: 416 says how long the representation is.
    return { status: 416, headers: { 'content-range': `bytes */${size}`, 'content-length': '0' }, body: null };
  }
  const out: ResponseHeaders = { ...headers };
  if (ranges.length === 1) {
    const { start, end } = ranges[0];
    out['content-range'] = `bytes ${start}-${end}/${size}`;
    out['content-length'] = String(end - start + 1);
    return { status: 206, headers: out, body: e.body.subarray(start, end + 1) };
  }
  // §14.6: several ranges go as multipart/byteranges, each part with its own Content-Range.
  const boundary = `portico-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const type = header(e.headers, 'content-type');
  const parts: Buffer[] = [];
  for (const r of ranges) {
    parts.push(Buffer.from(`\r\n--${boundary}\r\n${type === undefined ? '' : `Content-Type: ${type}\r\n`}Content-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`));
    parts.push(Buffer.from(e.body.buffer, e.body.byteOffset + r.start, r.end - r.start + 1));
  }
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  const body = Buffer.concat(parts);
  out['content-type'] = `multipart/byteranges; boundary=${boundary}`;
  out['content-length'] = String(body.byteLength);
  return { status: 206, headers: out, body };
}
