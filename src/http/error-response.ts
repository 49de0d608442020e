// The one place where thrown errors become responses (DESIGN.md: typed errors, one mapping).
import type { PorticoResponse, RequestHeaders } from './types.ts';
import { HttpError } from './errors.ts';
import type { RequestContext } from './context.ts';

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 413: 'Content Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable', 422: 'Unprocessable Content', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** Normalises anything thrown into an HttpError (unknown errors become 500 INTERNAL, message hidden). */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  return new HttpError(500, 'INTERNAL', 'internal error', { cause: err, expose: false });
}

/**
 * JSON for clients that ask for it, plain text otherwise. The body always carries the request id
 * so a user's report can be matched with the log line.
 */
export function errorResponse(err: unknown, headers: RequestHeaders, ctx: RequestContext): PorticoResponse {
  const e = toHttpError(err);
  const message = e.expose ? e.message : reasonPhrase(e.status);
  const accept = headers['accept'];
  const wantsJson = accept !== undefined && accept.includes('json') && !accept.startsWith('text/html');
  const body = wantsJson
    ? JSON.stringify({ error: { status: e.status, code: e.code, message, requestId: ctx.id } }) + '\n'
    : `${e.status} ${reasonPhrase(e.status)}: ${message}\ncode: ${e.code}\nrequest id: ${ctx.id}\n`;
  const out: PorticoResponse = {
    status: e.status,
    headers: {
      'content-type': wantsJson ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'x-portico-error': e.code,
    },
    body,
  };
  if (e.headers) Object.assign(out.headers, e.headers);
  return out;
}
