// Prototype B: strict parser for the upstream's response head (RFC 9112 §4–§6). One instance
// per upstream connection. The upstream is not trusted more than a client: its framing decides
// where the next response starts on a reused connection, so every ambiguity is a 502 and a
// closed connection (RFC 9112 §6.3 rule 5), never a guess.
import { connectionOptions, HOP_BY_HOP } from '../../src/http/headers.ts';
import type { ResponseHeaders } from '../../src/http/types.ts';
import {
  type FieldSink, FIELD_CHAR, HeadFault, classifyTransferEncoding, parseContentLength, parseFieldLines,
} from '../../src/edge/h1/http1-syntax.ts';
import { hasToken } from '../../src/edge/h1/request-head.ts';

export type ResponseBodyKind = 'none' | 'length' | 'chunked' | 'close';

export class ResponseHeadParser implements FieldSink {
  status = 0;
  version = '1.1';
  /** End-to-end fields only: hop-by-hop ones and those named in Connection are dropped (RFC 9110 §7.6.1). */
  headers: ResponseHeaders = {};
  bodyKind: ResponseBodyKind = 'none';
  contentLength = 0;
  keepAlive = true;
  private readonly maxHead: number;
  private fieldCount = 0;
  private clCount = 0;
  private te: string | undefined = undefined;
  private connection: string | undefined = undefined;

  constructor(maxHead: number) {
    this.maxHead = maxHead;
  }

  /** status-line (RFC 9112 §4) then the field lines. Returns the end of the head or -1. */
  parse(buf: Buffer, headRequest: boolean): number {
    const maxHead = this.maxHead;
    const nl = buf.indexOf(10);
    if (nl === -1) {
      if (buf.length >= maxHead) throw new HeadFault('too-large', 'response head too large');
      return -1;
    }
    // "HTTP/1.x SP 3DIGIT SP [reason] CRLF"; the reason phrase is optional (RFC 9112 §4).
    const e = nl - 1;
    if (e < 12 || buf[e] !== 13 || buf.toString('latin1', 0, 7) !== 'HTTP/1.' || buf[8] !== 32) {
      throw new HeadFault('syntax', 'invalid status line');
    }
    const minor = buf[7];
    if (minor !== 0x30 && minor !== 0x31) throw new HeadFault('syntax', 'invalid status line version');
    this.version = minor === 0x31 ? '1.1' : '1.0';
    const d0 = buf[9] - 0x30, d1 = buf[10] - 0x30, d2 = buf[11] - 0x30;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) throw new HeadFault('syntax', 'invalid status code');
    this.status = d0 * 100 + d1 * 10 + d2;
    if (e > 12 && buf[12] !== 32) throw new HeadFault('syntax', 'invalid status line');
    for (let i = 13; i < e; i++) if (FIELD_CHAR[buf[i]] === 0) throw new HeadFault('syntax', 'invalid reason phrase');
    this.headers = {};
    this.fieldCount = this.clCount = 0;
    this.te = this.connection = undefined;
    const end = parseFieldLines(buf, nl + 1, maxHead, this);
    if (end !== -1) this.decideFraming(headRequest);
    return end;
  }

  field(name: string, value: string): void {
    if (++this.fieldCount > 100) throw new HeadFault('too-large', 'too many response header fields');
    const headers = this.headers;
    switch (name) {
      case 'content-length':
        if (++this.clCount > 1) throw new HeadFault('syntax', 'duplicate Content-Length');
        headers[name] = value;
        return;
      case 'transfer-encoding':
        this.te = this.te === undefined ? value : this.te + ', ' + value;
        return;
      case 'connection':
        this.connection = this.connection === undefined ? value : this.connection + ', ' + value;
        return;
      case 'set-cookie': {
        // Never joined: a Set-Cookie value may contain commas (RFC 6265 §3, RFC 9110 §5.3).
        const prev = headers[name];
        if (Array.isArray(prev)) prev.push(value);
        else headers[name] = [value];
        return;
      }
      case '__proto__':
        throw new HeadFault('syntax', 'invalid field name');
    }
    if (HOP_BY_HOP.has(name)) return;
    const prev = headers[name];
    headers[name] = typeof prev === 'string' ? prev + ', ' + value : value;
  }

  /** Response body length, RFC 9112 §6.3 in order; every "error" case becomes a 502. */
  private decideFraming(headRequest: boolean): void {
    const status = this.status;
    const keepAlive = this.version === '1.1'
      ? this.connection === undefined || !hasToken(this.connection, 'close')
      : this.connection !== undefined && hasToken(this.connection, 'keep-alive');
    this.keepAlive = keepAlive;
    if (this.connection !== undefined) {
      for (const name of connectionOptions(this.connection)) delete this.headers[name]; // RFC 9110 §7.6.1
    }
    // Rule 1: no content after HEAD, 1xx, 204 and 304, whatever the fields say.
    this.contentLength = 0;
    if (headRequest || status < 200 || status === 204 || status === 304) {
      this.bodyKind = 'none';
      return;
    }
    const te = this.te;
    if (te !== undefined) {
      // Rule 3: TE and CL together "ought to be handled as an error"; TE in HTTP/1.0 is faulty
      // framing (§6.1); a final coding other than chunked would need close-delimited reading and
      // forwarding a coding whose field we must drop (hop-by-hop): all refused.
      if (this.clCount > 0) throw new HeadFault('syntax', 'both Transfer-Encoding and Content-Length');
      if (this.version === '1.0') throw new HeadFault('syntax', 'Transfer-Encoding in HTTP/1.0');
      if (classifyTransferEncoding(te) !== 'chunked') throw new HeadFault('syntax', 'unsupported transfer coding');
      this.bodyKind = 'chunked';
    } else if (this.clCount === 1) {
      // Rule 5: an invalid Content-Length from upstream MUST be answered with 502 and a close.
      const n = parseContentLength(this.headers['content-length'] as string);
      if (n < 0) throw new HeadFault('syntax', 'invalid Content-Length');
      this.bodyKind = n === 0 ? 'none' : 'length';
      this.contentLength = n;
    } else {
      this.bodyKind = 'close'; // rule 8: read until the server closes; never reusable
    }
  }
}
