// Strict parser for an upstream's response head (RFC 9112 §4–§6), one instance per connection,
// on the edge engine's field-line syntax (src/edge/h1/http1-syntax.ts). The upstream is trusted no
// more than a client: its framing decides where the next response starts on a reused connection,
// so every ambiguity is a 502 and a closed connection (RFC 9112 §6.3 rule 5), never a guess.
import { connectionOptions } from '../../http/headers.ts';
import type { ResponseHeaders } from '../../http/types.ts';
import {
  type FieldSink, FIELD_CHAR, HeadFault, classifyTransferEncoding, findLF, isHttp1Prefix, parseContentLength, parseFieldLines,
} from '../../edge/h1/http1-syntax.ts';
import { hasToken } from '../../edge/h1/request-head.ts';

export type ResponseBodyKind = 'none' | 'length' | 'chunked' | 'close';

const MAX_FIELDS = 200;
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d{1,9})/i;

export class ResponseHeadParser implements FieldSink {
  status = 0;
  version = '1.1';
  /** End-to-end fields only: hop-by-hop ones and those named in Connection are dropped (RFC 9110 §7.6.1). */
  headers: ResponseHeaders = {};
  bodyKind: ResponseBodyKind = 'none';
  contentLength = 0;
  /** Neither `Connection: close` nor an HTTP/1.0 answer without keep-alive (RFC 9112 §9.3). */
  keepAlive = true;
  /** ms from the server's `Keep-Alive: timeout=N` hint; -1 = none. */
  keepAliveHint = -1;
  /** `Server-Timing` lines, kept apart from `headers` for the proxy's journey timings. */
  serverTiming: string[] | null = null;
  /**
   * The fields stored in `headers`, name and value pairs in insertion order (PorticoResponse.checkedFields):
   * each passed parseFieldLines (token name, FIELD_CHAR value), and no hop-by-hop name is among them.
   */
  checked: (string | null)[] = [];
  private readonly maxHead: number;
  private fieldCount = 0;
  private cl: string | undefined = undefined;
  private te: string | undefined = undefined;
  private connection: string | undefined = undefined;

  constructor(maxHead: number) {
    this.maxHead = maxHead;
  }

  /** status-line then field lines from buf[0]. Returns the index past the head, or -1 for more bytes. */
  parse(buf: Buffer, method: string): number {
    const maxHead = this.maxHead;
    const nl = findLF(buf, 0);
    if (nl === -1) {
      if (buf.length >= maxHead) throw new HeadFault('too-large', 'response head too large');
      return -1;
    }
    // status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ] CRLF (RFC 9112 §4); a bare LF is refused.
    const e = nl - 1;
    if (e < 12 || buf[e] !== 13 || !isHttp1Prefix(buf, 0) || buf[8] !== 32) throw new HeadFault('syntax', 'invalid status line');
    const minor = buf[7];
    if (minor !== 0x30 && minor !== 0x31) throw new HeadFault('syntax', 'invalid status line version');
    this.version = minor === 0x31 ? '1.1' : '1.0';
    const d0 = buf[9] - 0x30, d1 = buf[10] - 0x30, d2 = buf[11] - 0x30;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) throw new HeadFault('syntax', 'invalid status code');
    this.status = d0 * 100 + d1 * 10 + d2;
    if (e > 12 && buf[12] !== 32) throw new HeadFault('syntax', 'invalid status line');
    for (let i = 13; i < e; i++) if (FIELD_CHAR[buf[i]] === 0) throw new HeadFault('syntax', 'invalid reason phrase');
    this.headers = {};
    this.checked = [];
    this.fieldCount = 0;
    this.cl = this.te = this.connection = undefined;
    this.keepAliveHint = -1;
    this.serverTiming = null;
    const end = parseFieldLines(buf, nl + 1, maxHead, this);
    if (end !== -1) this.decideFraming(method);
    return end;
  }

  field(name: string, value: string): void {
    if (++this.fieldCount > MAX_FIELDS) throw new HeadFault('too-large', 'too many response header fields');
    const headers = this.headers;
    switch (name) {
      case 'content-length':
        // RFC 9110 §8.6 lets a recipient merge identical repeats; nginx refuses any repeat from an
        // upstream, and so do we: two lengths are two opinions on where the response ends.
        if (this.cl !== undefined) throw new HeadFault('syntax', 'duplicate Content-Length');
        this.cl = value;
        headers[name] = value;
        this.checked.push(name, value);
        return;
      case 'transfer-encoding':
        this.te = this.te === undefined ? value : this.te + ', ' + value;
        return;
      case 'connection':
        this.connection = this.connection === undefined ? value : this.connection + ', ' + value;
        return;
      case 'keep-alive': {
        const m = KEEP_ALIVE_TIMEOUT.exec(value);
        if (m !== null) this.keepAliveHint = Number(m[1]) * 1000;
        return;
      }
      case 'set-cookie': {
        // Never joined: a Set-Cookie value may contain commas (RFC 6265 §3, RFC 9110 §5.3).
        const prev = headers[name];
        if (Array.isArray(prev)) prev.push(value);
        else {
          headers[name] = [value];
          this.checked.push(name, null); // an array a layer may push to in place: always checked
        }
        return;
      }
      case 'server-timing':
        (this.serverTiming ??= []).push(value);
        return;
      case '__proto__':
        throw new HeadFault('syntax', 'invalid field name');
      // The rest of HOP_BY_HOP (RFC 9110 §7.6.1), here rather than a Set lookup for every field:
      // src/proxy/checked-fields.test.ts holds this list to HOP_BY_HOP.
      case 'proxy-connection':
      case 'te':
      case 'trailer':
      case 'upgrade':
      case 'proxy-authenticate':
      case 'proxy-authorization':
        return;
    }
    const prev = headers[name];
    if (typeof prev !== 'string') {
      headers[name] = value;
      this.checked.push(name, value);
      return;
    }
    // A repeated field, joined as one list (RFC 9110 §5.3): ", " keeps it a valid value.
    const joined = prev + ', ' + value;
    headers[name] = joined;
    const checked = this.checked;
    for (let i = 0; i < checked.length; i += 2) if (checked[i] === name) checked[i + 1] = joined;
  }

  /** The response's body length, RFC 9112 §6.3 in order; every "error" there is a 502 here. */
  private decideFraming(method: string): void {
    const status = this.status;
    const connection = this.connection;
    // A lone `Connection: keep-alive` (what nginx sends on every keep-alive response) keeps the
    // connection in either version and lists no other field: no list to walk.
    const plainKeepAlive = connection !== undefined && connection.length === 10 && connection.toLowerCase() === 'keep-alive';
    this.keepAlive = plainKeepAlive || (this.version === '1.1'
      ? connection === undefined || !hasToken(connection, 'close')
      : connection !== undefined && hasToken(connection, 'keep-alive'));
    if (connection !== undefined && !plainKeepAlive) {
      for (const name of connectionOptions(connection)) delete this.headers[name]; // RFC 9110 §7.6.1
    }
    const te = this.te;
    // Checked before the no-body cases: a head this confused says nothing reliable about the next one.
    if (te !== undefined && this.cl !== undefined) throw new HeadFault('syntax', 'both Transfer-Encoding and Content-Length');
    this.contentLength = 0;
    // Rule 1: no content after HEAD, 1xx, 204 and 304, whatever the fields say.
    if (method === 'HEAD' || status < 200 || status === 204 || status === 304) {
      this.bodyKind = 'none';
      return;
    }
    if (te !== undefined) {
      // Rule 3/4: TE in HTTP/1.0 is faulty framing (§6.1); a final coding other than chunked would
      // mean forwarding a coding whose field is hop-by-hop: refused.
      if (this.version === '1.0') throw new HeadFault('syntax', 'Transfer-Encoding in HTTP/1.0');
      if (classifyTransferEncoding(te) !== 'chunked') throw new HeadFault('syntax', 'unsupported transfer coding');
      this.bodyKind = 'chunked';
    } else if (this.cl !== undefined) {
      // Rule 5: an invalid Content-Length from upstream MUST be treated as unrecoverable (502, close).
      const n = parseContentLength(this.cl);
      if (n < 0) throw new HeadFault('syntax', 'invalid Content-Length');
      this.bodyKind = n === 0 ? 'none' : 'length';
      this.contentLength = n;
    } else {
      this.bodyKind = 'close'; // rule 8: read until the server closes; never reusable
      this.keepAlive = false;
    }
  }
}
