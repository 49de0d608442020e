// Per-route request body cap (nginx's client_max_body_size): 413 from a declared Content-Length
// before a byte of the body is read, and, for bodies without one (chunked, h2), a counting stream
// that fails the request as soon as the cap is crossed, so nothing larger reaches the target.
import { Transform, type TransformCallback } from 'node:stream';
import type { Handler, PorticoRequest } from '../http/types.ts';
import { PayloadTooLargeError } from '../http/errors.ts';

/** Counts bytes through; errors with a 413 once `max` is exceeded. */
class CappedBody extends Transform {
  private seen = 0;
  private readonly max: number;

  constructor(max: number) {
    super();
    this.max = max;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) callback(new PayloadTooLargeError(`request body larger than ${this.max} bytes`));
    else callback(null, chunk);
  }
}

export function bodyLimitHandler(next: Handler, maxBodySize: number): Handler {
  return (req, ctx) => {
    if (req.body === null) return next(req, ctx);
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      // The edge's parser already rejected malformed or conflicting lengths (RFC 9112 §6.3).
      if (Number(declared) > maxBodySize) throw new PayloadTooLargeError(`Content-Length ${declared} exceeds the route's limit of ${maxBodySize} bytes`);
      return next(req, ctx);
    }
    const capped = new CappedBody(maxBodySize);
    const source = req.body;
    source.on('error', (err) => capped.destroy(err));
    source.pipe(capped);
    // Whoever reads the body (proxy, app, cache) sees the 413 as a body error; if the handler is
    // still waiting for it, the request fails with that error.
    let tooLarge: Error | null = null;
    capped.once('error', (err) => (tooLarge = err));
    const cappedReq: PorticoRequest = { ...req, body: capped };
    const result = next(cappedReq, ctx);
    if (!(result instanceof Promise)) return result;
    return result.catch((err: unknown) => {
      throw tooLarge ?? err;
    });
  };
}
