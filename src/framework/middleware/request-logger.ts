// One line per request, written after the response is known (so a 500 from a throw is logged
// with its status: the chain turns throws into responses at every level, see middleware.ts).
import type { Middleware } from '../middleware.ts';

export interface RequestLogEntry {
  readonly method: string;
  /** The path as received (percent-encoded), without the query. */
  readonly path: string;
  readonly status: number;
  /** From entering this middleware to the response coming back through it. */
  readonly durationMs: number;
  readonly requestId: string;
}

export interface RequestLoggerOptions {
  /** Where lines go. Default `console.log`, and nothing at all when NODE_ENV=test. */
  log?: (line: string) => void;
  /** Default: `GET /api/products 200 1.23ms id=…`. */
  format?: (entry: RequestLogEntry) => string;
}

export function defaultLogFormat(e: RequestLogEntry): string {
  return `${e.method} ${e.path} ${e.status} ${e.durationMs.toFixed(2)}ms id=${e.requestId}`;
}

export function requestLogger(options: RequestLoggerOptions = {}): Middleware {
  // Decided once: test runs stay quiet unless a test asks for the lines.
  const log = options.log ?? (process.env.NODE_ENV === 'test' ? null : console.log);
  const format = options.format ?? defaultLogFormat;
  return async function requestLogger(c, next) {
    if (log === null) {
      await next();
      return;
    }
    const start = performance.now();
    const res = await next();
    log(format({ method: c.req.method, path: c.path, status: res.status, durationMs: performance.now() - start, requestId: c.requestId }));
  };
}
