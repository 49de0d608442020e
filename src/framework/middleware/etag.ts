// ETags for dynamic responses: a hash of the body the handler produced, so a client or cache
// revalidating with If-None-Match gets a bodiless 304 when nothing changed (RFC 9110 §13.1.2,
// §15.4.5). The body must be buffered to hash it, so only bodies up to `maxSize` (1 MiB unless
// set) get one: a larger Content-Length is skipped unread, and a stream of unknown length is read
// only up to the cap and then passed on unchanged (the bytes read so far, then the rest).
// The handler still runs and builds its body: this saves bandwidth, not the server's work.
import { createHash } from 'node:crypto';
import type { Middleware } from '../middleware.ts';
import { concatBytes } from '../body.ts';

export interface EtagOptions {
  /** `W/"…"`: say the tag is weak (same meaning, maybe not the same bytes). Default false. */
  weak?: boolean;
  /** The largest body hashed, in bytes. Default 1 MiB. */
  maxSize?: number;
}

export const ETAG_MAX_SIZE = 1024 * 1024;

export function etag(options: EtagOptions = {}): Middleware {
  const prefix = options.weak === true ? 'W/"' : '"';
  const max = options.maxSize ?? ETAG_MAX_SIZE;
  return async function etag(c, next) {
    const method = c.req.method;
    const res = await next();
    if ((method !== 'GET' && method !== 'HEAD') || res.status !== 200 || res.body === null) return;
    if (res.headers.has('etag') || /(?:^|,)\s*no-store\s*(?:,|$)/i.test(res.headers.get('cache-control') ?? '')) return;
    const length = res.headers.get('content-length');
    if (length !== null && !(Number(length) <= max)) return;

    const read = await readUpTo(res.body, max);
    if (read.rest !== null) {
      // Too big to hash: give the stream back intact.
      c.res = new Response(replay(read.chunks, read.rest), res);
      return;
    }
    const hash = createHash('sha1');
    for (const chunk of read.chunks) hash.update(chunk);
    const tag = `${prefix}${hash.digest('base64url')}"`;
    const headers = new Headers(res.headers);
    headers.set('etag', tag);
    const inm = c.req.headers.get('if-none-match');
    if (inm !== null && noneMatchFails(inm, tag)) {
      // §15.4.5: a 304 carries the fields a 200 would have (Cache-Control, Vary, …) but no content.
      headers.delete('content-length');
      headers.delete('content-type');
      c.res = new Response(null, { status: 304, headers });
      return;
    }
    c.res = new Response(concatBytes(read.chunks), { status: res.status, statusText: res.statusText, headers });
  };
}

/**
 * RFC 9110 §13.1.2: If-None-Match uses the weak comparison (`W/` ignored), and `*` matches any
 * current representation. True when the condition is false, i.e. answer 304.
 */
export function noneMatchFails(header: string, tag: string): boolean {
  if (header.trim() === '*') return true;
  const opaque = tag.startsWith('W/') ? tag.slice(2) : tag;
  for (const m of header.matchAll(/(?:W\/)?("[^"]*")/g)) {
    if (m[1] === opaque) return true;
  }
  return false;
}

interface Read {
  chunks: Uint8Array[];
  /** The reader, still open, when the body passed the cap; null when fully read. */
  rest: ReadableStreamDefaultReader<Uint8Array> | null;
}

async function readUpTo(body: ReadableStream<Uint8Array>, max: number): Promise<Read> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { chunks, rest: null };
    chunks.push(value);
    total += value.byteLength;
    if (total > max) return { chunks, rest: reader };
  }
}

function replay(chunks: Uint8Array[], rest: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (i < chunks.length) return ctl.enqueue(chunks[i++]);
      const { done, value } = await rest.read();
      if (done) ctl.close();
      else ctl.enqueue(value);
    },
    cancel(reason) {
      return rest.cancel(reason);
    },
  });
}
