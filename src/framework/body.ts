// Request body reading with a hard cap (DESIGN.md: buffering is opt-in and capped). The declared
// Content-Length is checked before a byte is read; a body without one (chunked, or a stream) is
// counted as it arrives and the read is cancelled as soon as it passes the cap, so an oversized
// upload costs at most one chunk of memory beyond the limit, never the whole body.
import {
  BadRequestError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../http/errors.ts';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

const EMPTY = new Uint8Array(0);
/** Fatal: a body that is not UTF-8 is a client error, not text with replacement characters. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export async function readLimited(req: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  checkDeclaredLength(req, limit);
  if (req.body === null) return EMPTY;
  if (req.bodyUsed) throw new Error('the request body was already read outside the framework');

  const reader = req.body.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      // Stop the producer: for a socket-backed body this is what stops the upload.
      reader.cancel().catch(() => {});
      throw tooLarge(limit, `the body passed ${limit} bytes`);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0] : concatBytes(chunks);
}

/** One byte array from several (shared by the body readers and the etag middleware). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** 413 before a byte is read when Content-Length already says too much; 400 when it is malformed. */
export function checkDeclaredLength(req: Request, limit: number): void {
  const declared = req.headers.get('content-length');
  if (declared === null) return;
  // RFC 9110 §8.6: a single non-negative decimal; anything else is malformed framing.
  if (!/^\d+$/.test(declared)) throw new BadRequestError('invalid Content-Length', 'BAD_CONTENT_LENGTH');
  const size = Number(declared);
  if (size > limit) throw tooLarge(limit, `Content-Length is ${size} bytes`);
}

export function tooLarge(limit: number, what: string): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body too large: ${what}; the limit is ${limit} bytes`);
}

/** The media type of the request, lowercased, without parameters; '' when absent. */
export function mediaType(req: Request): string {
  const value = req.headers.get('content-type');
  if (value === null) return '';
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/** `application/json` or any `+json` structured syntax suffix (RFC 6839 §3.1). */
export function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

export const FORM_TYPES: readonly string[] = ['application/x-www-form-urlencoded', 'multipart/form-data'];

export function requireType(req: Request, ok: boolean, expected: string): void {
  if (ok) return;
  const got = req.headers.get('content-type');
  throw new UnsupportedMediaTypeError(
    got === null ? `expected a ${expected} body, got no Content-Type` : `expected a ${expected} body, got ${got}`,
  );
}

export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new BadRequestError('invalid JSON: the body is not valid UTF-8', 'INVALID_JSON');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    // The parser's own reason (position, token) is what lets a client fix its request.
    throw new BadRequestError(`invalid JSON: ${(err as Error).message}`, 'INVALID_JSON');
  }
}

/** Both form encodings, through the platform's parser, after the capped read. */
export async function parseForm(bytes: Uint8Array<ArrayBuffer>, contentType: string): Promise<FormData> {
  try {
    return await new Response(bytes, { headers: { 'content-type': contentType } }).formData();
  } catch (err) {
    throw new BadRequestError(`invalid form body: ${(err as Error).message}`, 'INVALID_FORM');
  }
}
