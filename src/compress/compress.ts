// Response compression (nginx `gzip`, Caddy `encode`): br, zstd (where Node has it) and gzip,
// negotiated by Accept-Encoding q-values (RFC 9110 §12.5.3), for compressible types above a
// minimum size, streamed, never twice, with `Vary: Accept-Encoding` (RFC 9110 §12.5.5).
import zlib from 'node:zlib';
import { Readable, pipeline, type Transform } from 'node:stream';
import type { Handler, PorticoResponse } from '../http/types.ts';
import { negotiateEncoding } from '../http/accept-encoding.ts';

export interface CompressOptions {
  /** Bodies known to be smaller are sent as they are (compression would cost more than it saves). */
  minSize: number;
  /** Content types (without parameters) to compress; `text/*` style wildcards allowed. */
  types: readonly string[];
  gzipLevel: number;
  /** Brotli quality: 11 is for build-time assets; dynamic responses want ~4 (Caddy, nginx's brotli module). */
  brotliQuality: number;
}

export const DEFAULT_COMPRESS: CompressOptions = {
  minSize: 1024,
  types: ['text/*', 'application/json', 'application/javascript', 'application/xml', 'application/*+json', 'application/*+xml', 'image/svg+xml', 'application/wasm'],
  gzipLevel: 6,
  brotliQuality: 4,
};

const HAS_ZSTD = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';
/** What this process can encode, in server preference order (br is smallest at dynamic qualities). */
export const CODINGS: readonly string[] = HAS_ZSTD ? ['br', 'zstd', 'gzip'] : ['br', 'gzip'];

/**
 * The coding `compressHandler` picks for an Accept-Encoding value, or `identity`: what a cache in
 * front of it keys its variants on (accept-encoding-key.ts), so any number of distinct header
 * strings make at most CODINGS.length + 1 variants.
 */
export function chosenCoding(accept: string | undefined): string {
  return negotiateEncoding(accept, CODINGS) ?? 'identity';
}

export function compressHandler(next: Handler, options: CompressOptions): Handler {
  const typeMatch = typeMatcher(options.types);
  return async (req, ctx) => {
    const accept = req.headers['accept-encoding'];
    if (accept === undefined) return next(req, ctx);
    // Journey order: this entry comes before the target's; a cache in front (accept-encoding-key.ts)
    // answers hits without reaching it, so a hit shows no `compress` entry.
    const slot = ctx.startTiming('compress');
    let res: PorticoResponse;
    try {
      res = await next(req, ctx);
    } finally {
      // Closed on an error too: the error answer's Server-Timing shows the time spent behind us.
      ctx.endTiming(slot);
    }
    if (res.status === 304) {
      if (weakenValidated(req.headers['if-none-match'], res)) addVary(res);
      return res;
    }
    if (!compressible(res, req.method === 'HEAD', typeMatch, options.minSize)) {
      if ((res.body !== null || req.method === 'HEAD') && typeMatch(res.headers['content-type'])) addVary(res);
      return res;
    }
    const coding = negotiateEncoding(accept, CODINGS);
    addVary(res);
    if (coding === null) return res;
    ctx.timings[slot].name = `compress;desc=${coding}`;
    const h = res.headers;
    h['content-encoding'] = coding;
    delete h['content-length'];
    // A different representation: a strong validator would lie about byte equality (RFC 9110 §8.8.3).
    // Weak, as nginx does: the codings of one resource are semantically equivalent (§8.8.1), so
    // If-None-Match (weak comparison, §13.1.2) matches any of them, and a cache in front keeps one
    // variant per coding anyway. If-Range needs a strong validator and so never matches these.
    const etag = h['etag'];
    if (typeof etag === 'string' && !etag.startsWith('W/')) h['etag'] = 'W/' + etag;
    delete h['accept-ranges'];
    // RFC 9110 §9.3.2: a HEAD gets the fields a GET would have got (its length unknown until encoded).
    if (req.method === 'HEAD') {
      discard(res.body);
      return { status: res.status, headers: h, body: null };
    }
    const encoder = createEncoder(coding, options);
    const body = res.body!;
    if (body instanceof Readable) {
      pipeline(body, encoder, () => {});
    } else {
      encoder.end(body);
    }
    return { status: res.status, headers: h, body: encoder };
  };
}

/**
 * A 304 whose strong ETag answers a conditional that named only its weak form validated a
 * compressed representation (the one we made weak): say so in the same form, so a cache (or a
 * client) updating its stored copy finds the validators equal (RFC 9111 §4.3.4).
 */
function weakenValidated(inm: string | undefined, res: PorticoResponse): boolean {
  const etag = res.headers['etag'];
  if (inm === undefined || typeof etag !== 'string' || etag.startsWith('W/')) return false;
  let weak = false;
  for (const tag of inm.split(',')) {
    const t = tag.trim();
    if (t === etag) return false;
    if (t === 'W/' + etag) weak = true;
  }
  if (weak) res.headers['etag'] = 'W/' + etag;
  return weak;
}

function discard(body: PorticoResponse['body']): void {
  if (body instanceof Readable) {
    body.on('error', () => {});
    body.destroy();
  }
}

function compressible(res: PorticoResponse, head: boolean, typeMatch: (t: unknown) => boolean, minSize: number): boolean {
  if ((res.body === null && !head) || res.status < 200 || res.status === 204 || res.status === 206 || res.status === 304) return false;
  const h = res.headers;
  if (h['content-encoding'] !== undefined && h['content-encoding'] !== 'identity') return false; // never twice
  if (h['content-range'] !== undefined) return false;
  const cc = h['cache-control'];
  // RFC 9111 §5.2.2.6: no-transform forbids changing the content.
  if (typeof cc === 'string' && /(^|,)\s*no-transform\s*(,|$)/i.test(cc)) return false;
  if (!typeMatch(h['content-type'])) return false;
  const body = res.body;
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array && !head ? body.length : Number(h['content-length'] ?? Infinity);
  return size >= minSize;
}

function addVary(res: PorticoResponse): void {
  const vary = res.headers['vary'];
  if (vary === undefined) res.headers['vary'] = 'Accept-Encoding';
  else if (typeof vary === 'string' && !/accept-encoding|\*/i.test(vary)) res.headers['vary'] = `${vary}, Accept-Encoding`;
}

function typeMatcher(types: readonly string[]): (t: unknown) => boolean {
  const exact = new Set(types.filter((t) => !t.includes('*')));
  const patterns = types.filter((t) => t.includes('*')).map((t) => new RegExp('^' + t.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^;]*') + '$'));
  return (t) => {
    if (typeof t !== 'string') return false;
    const base = t.split(';', 1)[0].trim().toLowerCase();
    return exact.has(base) || patterns.some((p) => p.test(base));
  };
}

function createEncoder(coding: string, options: CompressOptions): Transform {
  if (coding === 'br') {
    return zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: options.brotliQuality } });
  }
  if (coding === 'zstd') return (zlib as unknown as { createZstdCompress(): Transform }).createZstdCompress();
  return zlib.createGzip({ level: options.gzipLevel });
}
