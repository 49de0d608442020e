// A cap on the request body for a whole app, group or route, whoever reads it: the declared
// Content-Length is refused before a byte is read; a body without one (chunked) is wrapped in a
// counting stream, so the handler's own parsing (`c.bodyJson()`, `c.req.text()`, a streaming
// parser) fails at the cap instead of buffering an unbounded upload. Either way: 413
// PAYLOAD_TOO_LARGE.
import { checkDeclaredLength, tooLarge } from '../body.ts';
import type { Middleware } from '../middleware.ts';

export interface BodyLimitOptions {
  /** Bytes. */
  maxSize: number;
}

export function bodyLimit(options: BodyLimitOptions): Middleware {
  const max = options.maxSize;
  if (!Number.isSafeInteger(max) || max < 0) throw new TypeError(`bodyLimit: maxSize must be a non-negative integer, got ${max}`);
  return async function bodyLimit(c, next) {
    const req = c.req;
    checkDeclaredLength(req, max); // 413 (or 400 for a malformed Content-Length)
    if (req.body === null || req.headers.has('content-length')) return next();
    if (req.body.locked || req.bodyUsed) {
      // An earlier middleware already read it through the context (say csrf() reading a form):
      // the kept bytes are checked against this cap instead.
      await c.bodyBytes({ limit: max });
      return next();
    }
    let seen = 0;
    let exceeded = false;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        seen += chunk.byteLength;
        if (seen > max) {
          exceeded = true;
          // Errors the reader's side and cancels the source: the upload stops being read.
          ctl.error(tooLarge(max, `the body passed ${max} bytes`));
          return;
        }
        ctl.enqueue(chunk);
      },
    });
    c.replaceRequest(new Request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body.pipeThrough(counter),
      signal: req.signal,
      duplex: 'half',
    } as RequestInit));
    await next();
    // A handler that caught the read error and answered something else still gets the 413:
    // the body it worked from was cut short.
    if (exceeded && c.res!.status !== 413) throw tooLarge(max, `the body passed ${max} bytes`);
  };
}
