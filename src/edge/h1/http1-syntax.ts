// HTTP/1.1 syntax for the portico edge engine (src/edge/h1) and the io-model prototype's upstream parser:
// character tables, strict field-line parsing and the chunked decoder. Everything here is
// byte-level and allocation-light because it runs once per message on the data plane.
//
// Strictness is the point (DESIGN.md principle 5): every rule below rejects what RFC 9112 lets
// a recipient either reject or "fix up", because a proxy that fixes up differently from the
// server behind it is how request smuggling works.

import { reasonPhrase } from '../../http/error-response.ts';
import { HOP_BY_HOP } from '../../http/headers.ts';
import type { CheckedFields, ResponseHeaders } from '../../http/types.ts';

/** A syntax fault in a head or a chunked body; the caller maps it to 400/431 (client) or 502 (upstream). */
export class HeadFault extends Error {
  readonly kind: 'syntax' | 'too-large';
  constructor(kind: 'syntax' | 'too-large', message: string) {
    super(message);
    this.kind = kind;
  }
}

const fault = (message: string): HeadFault => new HeadFault('syntax', message);

/** tchar (RFC 9110 §5.6.2): the characters of methods and field names. */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/**
 * Bytes allowed inside a field value (RFC 9110 §5.5): VCHAR, obs-text, SP and HTAB. Every other
 * control character, bare CR included (RFC 9112 §2.2), is rejected rather than replaced.
 */
export const FIELD_CHAR = new Uint8Array(256);
FIELD_CHAR[0x09] = 1;
for (let c = 0x20; c <= 0x7e; c++) FIELD_CHAR[c] = 1;
for (let c = 0x80; c <= 0xff; c++) FIELD_CHAR[c] = 1;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/**
 * Index of the first LF at or after `pos`, or -1 (what buf.indexOf(10, pos) answers). A byte loop:
 * head lines are short, and over a 10-line response head the loop took ~210 ns where indexOf's
 * call per line took ~400 ns.
 */
export function findLF(buf: Buffer, pos: number): number {
  const len = buf.length;
  for (; pos < len; pos++) if (buf[pos] === LF) return pos;
  return -1;
}

type Latin1Slicing = Buffer & { latin1Slice?: (start: number, end: number) => string };
const LATIN1_SLICE = typeof (Buffer.prototype as Latin1Slicing).latin1Slice === 'function';

/**
 * buf[start, end) as latin1 text: what buf.toString('latin1', start, end) returns for in-range
 * indices, without its argument and encoding checks (~15 ns a call, ~10 calls a head). latin1Slice
 * is the method toString itself calls; without it (never in Node 24) toString is used.
 */
export function latin1(buf: Buffer, start: number, end: number): string {
  return LATIN1_SLICE ? (buf as Latin1Slicing).latin1Slice!(start, end) : buf.toString('latin1', start, end);
}

/** buf[at, at + 7) is "HTTP/1." (RFC 9112 §2.3), compared as bytes: no string made for it. */
export function isHttp1Prefix(buf: Buffer, at: number): boolean {
  return buf[at] === 0x48 && buf[at + 1] === 0x54 && buf[at + 2] === 0x54 && buf[at + 3] === 0x50
    && buf[at + 4] === 0x2f && buf[at + 5] === 0x31 && buf[at + 6] === 0x2e;
}

/** Receives each field of a head, name lowercased, value with OWS trimmed (RFC 9112 §5.1). */
export interface FieldSink {
  field(name: string, value: string): void;
}

/**
 * Parses field lines from `pos` up to and including the empty line that ends the head.
 * Returns the index just past the head, or -1 when more bytes are needed. `maxEnd` is the
 * absolute index the head must end before (the size limit). Throws HeadFault.
 */
export function parseFieldLines(buf: Buffer, pos: number, maxEnd: number, sink: FieldSink): number {
  for (;;) {
    const nl = findLF(buf, pos);
    if (nl === -1 || nl >= maxEnd) {
      if (nl >= maxEnd || buf.length >= maxEnd) throw new HeadFault('too-large', 'header section too large');
      return -1;
    }
    // RFC 9112 §2.2: a line ends in CRLF; a bare LF is rejected, not tolerated, so that this parser
    // and whatever sits behind it can never disagree on where a field (or the head) ends.
    if (nl === pos || buf[nl - 1] !== CR) throw fault('bare LF');
    const end = nl - 1;
    if (end === pos) return nl + 1;
    const first = buf[pos];
    // RFC 9112 §5.2: obs-fold is deprecated; a server may reject it with 400, and a proxy that
    // unfolded it would change the message. Also covers whitespace before the first field (§2.2).
    if (first === SP || first === HTAB) throw fault('obsolete line folding');
    let i = pos;
    while (i < end && TCHAR[buf[i]] === 1) i++;
    if (i === end || buf[i] !== COLON) {
      // RFC 9112 §5.1: no whitespace between name and colon; a server MUST reject it with 400.
      const c = buf[i];
      throw fault(c === SP || c === HTAB ? 'whitespace before colon' : 'invalid character in field name');
    }
    if (i === pos) throw fault('empty field name');
    const name = fieldName(buf, pos, i);
    let vs = i + 1;
    while (vs < end && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    let ve = end;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    for (let j = vs; j < ve; j++) if (FIELD_CHAR[buf[j]] === 0) throw fault('invalid character in field value');
    sink.field(name, vs === ve ? '' : latin1(buf, vs, ve));
    pos = nl + 1;
  }
}

/**
 * Names nearly every head carries, lowercase, grouped by length. A name that matches one comes out
 * as this constant instead of a new string: no latin1 slice or toLowerCase per field, and every later
 * lookup by it (Sets, header objects) meets an internalized string whose hash is already known.
 */
const KNOWN_BY_LENGTH: string[][] = [];
for (const n of [
  'accept', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'authorization', 'cache-control',
  'connection', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-range',
  'content-type', 'cookie', 'date', 'etag', 'expires', 'forwarded', 'host', 'if-modified-since', 'if-none-match',
  'keep-alive', 'last-modified', 'location', 'origin', 'pragma', 'referer', 'server', 'server-timing', 'set-cookie',
  'strict-transport-security', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'x-forwarded-for',
  'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'x-request-id', 'traceparent',
]) {
  // The match below folds case with `| 0x20`, exact only for letters and for '-' (whose other
  // preimage, CR, is never in a name): keep the table to those.
  if (!/^[a-z-]+$/.test(n)) throw new Error(`known field name ${n}: letters and '-' only`);
  (KNOWN_BY_LENGTH[n.length] ??= []).push(n);
}

/** buf[start, end), a token already checked (tchar only), lowercased (field names are case-insensitive, RFC 9110 §5.1). */
function fieldName(buf: Buffer, start: number, end: number): string {
  const known = KNOWN_BY_LENGTH[end - start];
  if (known !== undefined) {
    next: for (let k = 0; k < known.length; k++) {
      const name = known[k];
      for (let i = 0; i < name.length; i++) if ((buf[start + i] | 0x20) !== name.charCodeAt(i)) continue next;
      return name;
    }
  }
  return latin1(buf, start, end).toLowerCase();
}

/** 1*DIGIT with a bound that keeps it an exact integer (RFC 9110 §8.6). -1 when invalid. */
export function parseContentLength(value: string): number {
  if (value.length === 0 || value.length > 15) return -1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(value);
}

/**
 * Reads a Transfer-Encoding list (RFC 9112 §6.1). Returns 'chunked' when chunked is the final and
 * only coding, 'unsupported' when chunked is final but other codings precede it (we would have to
 * forward them, and TE is hop-by-hop), 'not-final' when chunked is not last or appears twice.
 */
export function classifyTransferEncoding(value: string): 'chunked' | 'unsupported' | 'not-final' {
  const codings = value.split(',');
  let chunkedAt = -1;
  let count = 0;
  for (let i = 0; i < codings.length; i++) {
    const c = codings[i].trim().toLowerCase();
    if (c === '') continue;
    count++;
    if (c === 'chunked') {
      if (chunkedAt !== -1) return 'not-final'; // chunked applied twice (RFC 9112 §6.1)
      chunkedAt = count;
    }
  }
  if (chunkedAt === -1 || chunkedAt !== count) return 'not-final';
  return count === 1 ? 'chunked' : 'unsupported';
}

/** Receives decoded chunk data. Slices point into the read buffer: copy if kept past the call. */
export interface DataSink {
  data(chunk: Buffer): void;
}

const S_SIZE = 0, S_EXT = 1, S_SIZE_LF = 2, S_DATA = 3, S_DATA_CR = 4, S_DATA_LF = 5;
const S_TRAILER_START = 6, S_TRAILER = 7, S_TRAILER_LF = 8, S_FINAL_LF = 9, S_DONE = 10;
const MAX_SIZE_DIGITS = 12; // 2^48 bytes: far past any limit, still an exact double
const MAX_LINE = 4096; // chunk extensions and trailer lines; nginx and llhttp bound these too

/**
 * Chunked transfer coding decoder (RFC 9112 §7.1), a byte state machine so it resumes anywhere.
 * Extensions are checked and dropped (§7.1.1); trailer fields are checked and discarded, which a
 * recipient removing the coding may do (§7.1.2). Every line must end in CRLF.
 */
export class ChunkedDecoder {
  private state = S_SIZE;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  /** Whether the current trailer line has had its colon: its name must be a token (RFC 9112 §7.1.2, §5.1). */
  private trailerColon = false;

  get done(): boolean {
    return this.state === S_DONE;
  }

  reset(): void {
    this.state = S_SIZE;
    this.size = this.digits = this.remaining = this.lineBytes = this.trailerBytes = 0;
  }

  /** Decodes buf[pos, end) and returns how far it read: `end`, or the index just past the last chunk. */
  feed(buf: Buffer, pos: number, end: number, sink: DataSink): number {
    while (pos < end) {
      const state = this.state;
      if (state === S_DATA) {
        const n = Math.min(this.remaining, end - pos);
        sink.data(buf.subarray(pos, pos + n));
        pos += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = S_DATA_CR;
        continue;
      }
      const c = buf[pos++];
      switch (state) {
        case S_SIZE: {
          const d = hexValue(c);
          if (d >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw fault('chunk size too large');
            this.size = this.size * 16 + d;
          } else if (this.digits === 0) {
            throw fault('invalid chunk size');
          } else if (c === CR) {
            this.state = S_SIZE_LF;
          } else if (c === 0x3b || c === SP || c === HTAB) {
            this.state = S_EXT; // BWS ";" chunk-ext (RFC 9112 §7.1.1)
            this.lineBytes = 0;
          } else {
            throw fault('invalid chunk size');
          }
          break;
        }
        case S_EXT:
          if (c === CR) this.state = S_SIZE_LF;
          else if (FIELD_CHAR[c] === 0 || ++this.lineBytes > MAX_LINE) throw fault('invalid chunk extension');
          break;
        case S_SIZE_LF:
          if (c !== LF) throw fault('chunk size line without CRLF');
          if (this.size === 0) {
            this.state = S_TRAILER_START;
          } else {
            this.remaining = this.size;
            this.state = S_DATA;
          }
          this.size = this.digits = 0;
          break;
        case S_DATA_CR:
          if (c !== CR) throw fault('chunk data longer than its size');
          this.state = S_DATA_LF;
          break;
        case S_DATA_LF:
          if (c !== LF) throw fault('chunk data without CRLF');
          this.state = S_SIZE;
          break;
        case S_TRAILER_START:
          if (c === CR) this.state = S_FINAL_LF;
          else if (TCHAR[c] === 1) {
            this.state = S_TRAILER;
            this.lineBytes = 1;
            this.trailerColon = false;
          } else throw fault('invalid trailer field');
          break;
        case S_TRAILER:
          if (c === CR) {
            if (!this.trailerColon) throw fault('invalid trailer field');
            this.state = S_TRAILER_LF;
          } else if (++this.lineBytes > MAX_LINE) throw fault('invalid trailer field');
          else if (this.trailerColon) {
            if (FIELD_CHAR[c] === 0) throw fault('invalid trailer field');
          } else if (c === COLON) this.trailerColon = true;
          else if (TCHAR[c] === 0) throw fault('invalid trailer field');
          break;
        case S_TRAILER_LF:
          if (c !== LF) throw fault('trailer line without CRLF');
          this.trailerBytes += this.lineBytes;
          if (this.trailerBytes > 4 * MAX_LINE) throw new HeadFault('too-large', 'trailer section too large');
          this.state = S_TRAILER_START;
          break;
        case S_FINAL_LF:
          if (c !== LF) throw fault('chunked body without final CRLF');
          this.state = S_DONE;
          return pos;
        default:
          return pos - 1; // S_DONE: the caller owns whatever follows
      }
    }
    return pos;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Chunk framing for a slice we forward (RFC 9112 §7.1): size line, data, CRLF. */
export function chunkHeader(length: number): string {
  return length.toString(16) + '\r\n';
}

export const LAST_CHUNK = '0\r\n\r\n';

const OK_REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content', 301: 'Moved Permanently',
  302: 'Found', 303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
};
const reason = (s: number) => OK_REASONS[s] ?? (s >= 400 ? reasonPhrase(s) : '');
const STATUS_LINES: readonly string[] = Array.from({ length: 600 }, (_, s) => `HTTP/1.1 ${s} ${reason(s)}\r\n`);
/** status-line (RFC 9112 §4); the reason phrase is informative only, so it is ours. */
export function statusLine(status: number): string {
  return status >= 100 && status < 600 ? STATUS_LINES[status] : `HTTP/1.1 ${status} \r\n`;
}

/** Framing fields are the writer's alone (RFC 9112 §6); hop-by-hop ones never pass (RFC 9110 §7.6.1). */
const WRITER_OWNED: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'content-length']);
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE_RE = /[^\t\x20-\x7e\x80-\xff]/;

/** Names nearly every message carries, all tokens: a Set hit (~10 ns) instead of TOKEN_RE (~60 ns) per field. */
const COMMON_FIELD_NAMES: ReadonlySet<string> = new Set([
  'accept', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'authorization', 'cache-control',
  'content-encoding', 'content-language', 'content-length', 'content-location', 'content-range', 'content-type',
  'cookie', 'date', 'etag', 'expires', 'forwarded', 'host', 'if-modified-since', 'if-none-match', 'last-modified',
  'location', 'origin', 'referer', 'server', 'server-timing', 'set-cookie', 'strict-transport-security',
  'user-agent', 'vary', 'via', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-portico-error',
  'x-real-ip', 'x-request-id',
]);

/** A field value we may send (RFC 9110 §5.5): no CR, LF, NUL or other control that could split the message. */
export function isFieldValue(value: string): boolean {
  return !BAD_VALUE_RE.test(value);
}

/** A field name we may send: a token (RFC 9110 §5.1). */
export function isFieldName(name: string): boolean {
  return COMMON_FIELD_NAMES.has(name) || TOKEN_RE.test(name);
}

/** FieldKinds answers: a name the writer sets itself (never copied), or a common name known to be a token. */
export const FIELD_OWNED = 1;
export const FIELD_TOKEN = 2;
export type FieldKinds = ReadonlyMap<string, number>;

/**
 * One lookup per field where a writer asked two Sets (its own names, then COMMON_FIELD_NAMES):
 * `owned` names are FIELD_OWNED, other common names FIELD_TOKEN; any other name is not in the map
 * and must pass isFieldName.
 */
export function fieldKinds(owned: Iterable<string>): FieldKinds {
  const kinds = new Map<string, number>();
  for (const name of COMMON_FIELD_NAMES) kinds.set(name, FIELD_TOKEN);
  for (const name of owned) kinds.set(name, FIELD_OWNED);
  return kinds;
}

const RESPONSE_KINDS = fieldKinds(WRITER_OWNED);

/**
 * Response fields as text; null if a layer produced a name or value that could split the response.
 * `checked` (PorticoResponse.checkedFields) lists what the upstream's strict parser stored: a field
 * whose name and value are still that parser's, at the same place in the object's order, was
 * checked there (a token name, FIELD_CHAR value) and is not checked again. Any other field, one a
 * layer added or changed included, is checked below; after a field is removed the places no
 * longer line up and every later field is checked too.
 */
export function serializeFields(headers: ResponseHeaders, checked: CheckedFields | null = null): string | null {
  let out = '';
  let k = 0;
  for (const name in headers) {
    if (checked !== null && checked[k] === name) {
      const same = checked[k + 1] === headers[name];
      k += 2;
      if (same) {
        // The parser never stores hop-by-hop fields: content-length is the one writer-owned name it keeps.
        if (name !== 'content-length') out += name + ': ' + (headers[name] as string) + '\r\n';
        continue;
      }
    }
    const kind = RESPONSE_KINDS.get(name);
    if (kind === FIELD_OWNED) continue;
    if (kind === undefined && !TOKEN_RE.test(name)) return null;
    const v = headers[name];
    if (typeof v === 'string') {
      if (BAD_VALUE_RE.test(v)) return null;
      out += name + ': ' + v + '\r\n';
    } else {
      for (const item of v) {
        if (BAD_VALUE_RE.test(item)) return null;
        out += name + ': ' + item + '\r\n';
      }
    }
  }
  return out;
}
