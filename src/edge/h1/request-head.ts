// The portico engine's strict request-head parser (RFC 9112 §2–§3, §5, §6). One instance per client
// connection, reused for every request on it; it only allocates the strings it hands out and
// one headers object per request.
//
// Every failure is thrown as an HttpError and the edge closes the connection after answering:
// once a head is in doubt, so is where the next request starts (RFC 9112 §6.3, §11.2).
import { METHODS } from 'node:http';
import { BadRequestError, HeaderFieldsTooLargeError, HttpError, UriTooLongError } from '../../http/errors.ts';
import type { RequestHeaders } from '../../http/types.ts';
import type { EdgeLimits } from '../limits.ts';
import {
  type FieldSink, HeadFault, TCHAR, classifyTransferEncoding, findLF, isHttp1Prefix, latin1, parseContentLength, parseFieldLines,
} from './http1-syntax.ts';

export interface HeadLimits {
  /** Whole head, request line included (nginx: large_client_header_buffers; node: maxHeaderSize 16 KiB). */
  readonly maxHead: number;
  /** Request line alone: past it the answer is 414 (RFC 9112 §3, RFC 9110 §15.5.15). */
  readonly maxRequestLine: number;
  readonly maxFields: number;
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = { maxHead: 16 * 1024, maxRequestLine: 8 * 1024 + 32, maxFields: 100 };

/**
 * The listener's limits as head limits. The request line may hold the method and version beside a
 * target of `maxUrlLength` bytes; past that the answer is 414, as node:http's edge answers it.
 */
export function headLimits(limits: EdgeLimits): HeadLimits {
  return { maxHead: limits.maxHeaderSize, maxRequestLine: limits.maxUrlLength + 32, maxFields: limits.maxHeaderCount };
}

export type BodyKind = 'none' | 'length' | 'chunked';

const CR = 13;
const LF = 10;
const SP = 32;

/** uri-host [":" port] (RFC 9110 §7.2, RFC 3986 §3.2.2), loosely: what can never be a host is refused. */
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::[0-9]*)?$/;
const ABSOLUTE_RE = /^https?:\/\//i;

const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS);

/**
 * GET, POST or HEAD at buf[start, end), matched as bytes (methods are case-sensitive, RFC 9110 §9.1),
 * as a constant string: no slice, and no KNOWN_METHODS lookup (all three are in it). Else null.
 */
function commonMethod(buf: Buffer, start: number, end: number): string | null {
  const n = end - start;
  const c0 = buf[start], c1 = buf[start + 1], c2 = buf[start + 2];
  if (n === 3) return c0 === 0x47 && c1 === 0x45 && c2 === 0x54 ? 'GET' : null;
  if (n !== 4) return null;
  const c3 = buf[start + 3];
  if (c0 === 0x50 && c1 === 0x4f && c2 === 0x53 && c3 === 0x54) return 'POST';
  if (c0 === 0x48 && c1 === 0x45 && c2 === 0x41 && c3 === 0x44) return 'HEAD';
  return null;
}

const badRequest = (message: string) => new BadRequestError(message, 'BAD_FRAMING');

export class RequestHeadParser implements FieldSink {
  method = '';
  target = '';
  path = '';
  query = '';
  version = '1.1';
  headers: RequestHeaders = {};
  bodyKind: BodyKind = 'none';
  contentLength = 0;
  keepAlive = true;
  expectContinue = false;
  private readonly limits: HeadLimits;
  private hostCount = 0;
  private clCount = 0;
  private fieldCount = 0;
  private authority: string | null = null;

  constructor(limits: HeadLimits = DEFAULT_HEAD_LIMITS) {
    this.limits = limits;
  }

  /** Parses the head at the start of `buf`. Returns the index just past it, or -1 if incomplete. */
  parse(buf: Buffer): number {
    let pos = 0;
    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
    while (pos < 8 && buf.length >= pos + 2 && buf[pos] === CR && buf[pos + 1] === LF) pos += 2;
    const nl = findLF(buf, pos);
    const { maxRequestLine, maxHead } = this.limits;
    if (nl === -1) {
      if (buf.length - pos > maxRequestLine) throw new UriTooLongError('request line too long', 'REQUEST_LINE_TOO_LONG');
      return -1;
    }
    if (nl - pos > maxRequestLine) throw new UriTooLongError('request line too long', 'REQUEST_LINE_TOO_LONG');
    if (nl === pos || buf[nl - 1] !== CR) throw badRequest('bare LF in request line');
    this.parseRequestLine(buf, pos, nl - 1);
    this.headers = {};
    this.hostCount = this.clCount = this.fieldCount = 0;
    let end: number;
    try {
      end = parseFieldLines(buf, nl + 1, pos + maxHead, this);
    } catch (err) {
      if (!(err instanceof HeadFault)) throw err;
      if (err.kind === 'too-large') throw new HeaderFieldsTooLargeError(err.message, 'HEAD_TOO_LARGE');
      throw badRequest(err.message);
    }
    if (end === -1) return -1;
    this.decideFraming();
    return end;
  }

  field(name: string, value: string): void {
    if (++this.fieldCount > this.limits.maxFields) throw new HeadFault('too-large', 'too many header fields');
    if (name === 'content-length') {
      // RFC 9110 §8.6 lets a recipient accept repeated identical values; a proxy that does so and a
      // server that takes the first (or last) of two different ones disagree on the body: refuse all.
      if (++this.clCount > 1) throw new HeadFault('syntax', 'duplicate Content-Length');
    } else if (name === 'host') {
      // RFC 9112 §3.2: more than one Host field line MUST be answered with 400.
      if (++this.hostCount > 1) throw new HeadFault('syntax', 'duplicate Host');
    } else if (name === '__proto__') {
      throw new HeadFault('syntax', 'invalid field name');
    }
    const headers = this.headers;
    const prev = headers[name];
    // Repeated fields are one comma-separated list (RFC 9110 §5.3); cookie pairs are joined with
    // "; " since a comma is legal inside them. typeof guards against inherited names (constructor).
    if (typeof prev !== 'string') headers[name] = value;
    else headers[name] = prev + (name === 'cookie' ? '; ' : ', ') + value;
  }

  private parseRequestLine(buf: Buffer, start: number, end: number): void {
    // request-line = method SP request-target SP HTTP-version (RFC 9112 §3): one SP each, no tolerance.
    let i = start;
    while (i < end && TCHAR[buf[i]] === 1) i++;
    if (i === start || i === end || buf[i] !== SP) throw badRequest('invalid method');
    const common = commonMethod(buf, start, i);
    this.method = common ?? latin1(buf, start, i);
    // RFC 9110 §9.1: 501 for a method the server does not recognise. The set is llhttp's, so this
    // engine never forwards a method the node:http engine would refuse (test/h1-differential.test.ts).
    if (common === null && !KNOWN_METHODS.has(this.method)) throw new HttpError(501, 'METHOD_NOT_IMPLEMENTED', 'unrecognised method');
    const ts = i + 1;
    let j = ts;
    // Visible ASCII only, no "#": request-target is URI syntax (RFC 9112 §3.2, RFC 3986), and raw
    // bytes or a fragment here would be forwarded differently by different servers.
    while (j < end) {
      const c = buf[j];
      if (c <= 0x20 || c >= 0x7f || c === 0x23) break;
      j++;
    }
    if (j === ts || j === end || buf[j] !== SP) throw badRequest('invalid request-target');
    this.target = latin1(buf, ts, j);
    const vs = j + 1;
    if (end - vs !== 8 || !isHttp1Prefix(buf, vs)) {
      const v = buf.toString('latin1', vs, end);
      // RFC 9110 §15.6.6: 505 for a major version we do not support; anything else is malformed.
      if (/^HTTP\/[0-9]\.[0-9]$/.test(v)) throw new HttpError(505, 'HTTP_VERSION', `unsupported version ${v}`);
      throw badRequest('invalid HTTP version');
    }
    const minor = buf[vs + 7];
    if (minor === 0x31) this.version = '1.1';
    else if (minor === 0x30) this.version = '1.0';
    else throw new HttpError(505, 'HTTP_VERSION', 'unsupported HTTP/1 minor version');
    this.splitTarget();
  }

  /** The four request-target forms (RFC 9112 §3.2); CONNECT's authority-form is not proxied here. */
  private splitTarget(): void {
    let target = this.target;
    this.authority = null;
    if (target.charCodeAt(0) !== 0x2f) {
      if (target === '*' && this.method === 'OPTIONS') {
        this.path = '*';
        this.query = '';
        return;
      }
      if (!ABSOLUTE_RE.test(target)) throw badRequest('unsupported request-target form');
      // absolute-form: the target's authority replaces Host (RFC 9112 §3.2.2); forward origin-form.
      const from = target.indexOf('//') + 2;
      let slash = from;
      while (slash < target.length && target[slash] !== '/' && target[slash] !== '?') slash++;
      this.authority = target.slice(from, slash);
      if (this.authority === '' || this.authority.includes('@')) throw badRequest('invalid authority in request-target');
      target = target.slice(slash);
      if (target === '' || target[0] === '?') target = '/' + target;
      this.target = target;
    }
    const q = target.indexOf('?');
    this.path = q === -1 ? target : target.slice(0, q);
    this.query = q === -1 ? '' : target.slice(q + 1);
  }

  /** Message body length per RFC 9112 §6.3, refusing every ambiguous case it lists. */
  private decideFraming(): void {
    const h = this.headers;
    if (this.authority !== null) h.host = this.authority;
    else if (this.hostCount === 0) {
      if (this.version === '1.1') throw badRequest('missing Host'); // RFC 9112 §3.2
    } else if (!HOST_RE.test(h.host)) throw badRequest('invalid Host');
    const te = h['transfer-encoding'];
    this.bodyKind = 'none';
    this.contentLength = 0;
    if (te !== undefined) {
      // RFC 9112 §6.1: TE in an HTTP/1.0 message means faulty framing; TE with CL "ought to be
      // handled as an error" (§6.3 rule 3) and the connection MUST be closed either way.
      if (this.version === '1.0') throw badRequest('Transfer-Encoding in an HTTP/1.0 request');
      if (this.clCount > 0) throw badRequest('both Transfer-Encoding and Content-Length');
      const kind = classifyTransferEncoding(te);
      // §6.3 rule 4: chunked not final in a request: 400 and close.
      if (kind === 'not-final') throw badRequest('chunked is not the final transfer coding');
      // §6.1: a coding we do not understand SHOULD get 501 (we would have to forward it, and TE is hop-by-hop).
      if (kind === 'unsupported') throw new HttpError(501, 'TRANSFER_CODING', 'unsupported transfer coding');
      this.bodyKind = 'chunked';
    } else if (this.clCount === 1) {
      const n = parseContentLength(h['content-length']);
      if (n < 0) throw badRequest('invalid Content-Length'); // §6.3 rule 5
      this.contentLength = n;
      if (n > 0) this.bodyKind = 'length';
    }
    // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
    const connection = h.connection;
    this.keepAlive = this.version === '1.1'
      ? connection === undefined || !hasToken(connection, 'close')
      : connection !== undefined && hasToken(connection, 'keep-alive');
    const expect = h.expect;
    this.expectContinue = false;
    if (expect !== undefined) {
      // RFC 9110 §10.1.1: 100-continue is the only expectation; others MAY get 417.
      if (expect.toLowerCase() !== '100-continue') throw new HttpError(417, 'EXPECTATION_FAILED', 'unsupported expectation');
      // An HTTP/1.0 client cannot read a 1xx: its expectation MUST be ignored.
      this.expectContinue = this.bodyKind !== 'none' && this.version === '1.1';
    }
  }
}

/** Whether a comma-separated list (Connection) contains a token, case-insensitively (RFC 9110 §5.6.1). */
export function hasToken(list: string, token: string): boolean {
  const lower = list.toLowerCase();
  if (lower === token) return true;
  for (const part of lower.split(',')) if (part.trim() === token) return true;
  return false;
}

/** The host part of a Host value, lowercased, without the port (for RequestContext.host). */
export function hostName(host: string | undefined): string {
  if (host === undefined) return '';
  const end = host.charCodeAt(0) === 0x5b ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end <= 0 ? host : host.slice(0, end)).toLowerCase();
}
