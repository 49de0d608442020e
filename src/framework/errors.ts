// Thrown errors → responses, for apps. Same body shape as the stack's own error pages
// (src/http/error-response.ts) so a client parses one format whichever layer answered:
// { error: { status, code, message, requestId } }. Unknown errors are 500s whose message never
// leaves the process except in development, where the stack helps more than it hurts.
import { BadRequestError, HttpError } from '../http/errors.ts';
import { reasonPhrase } from '../http/error-response.ts';
import type { Context } from './context.ts';

export interface ValidationIssue {
  /** Dotted path to the failing field (`tags.1`), '' for the value as a whole. */
  readonly path: string;
  readonly message: string;
}

/** 400 with the failing fields listed, so a form can mark each one. */
export class ValidationError extends BadRequestError {
  readonly issues: readonly ValidationIssue[];

  constructor(where: string, issues: readonly ValidationIssue[]) {
    const summary = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ');
    super(`invalid ${where}: ${summary}`, 'VALIDATION_FAILED');
    this.issues = issues;
  }
}

export type ErrorHandler = (err: unknown, c: Context) => Response | Promise<Response>;

export interface ErrorBody {
  error: {
    status: number;
    code: string;
    message: string;
    requestId: string;
    issues?: readonly ValidationIssue[];
    stack?: string;
  };
}

/** The default error handler: `dev` decides whether a 500 shows its stack. */
export function errorResponse(err: unknown, c: Context, dev: boolean): Response {
  const known = err instanceof HttpError;
  const status = known ? err.status : 500;
  if (status >= 500) {
    // The request id in both the log line and the body is what joins a user's report to the cause.
    console.error(`[portico] ${c.requestId} ${c.req.method} ${c.path} failed with ${status}:`, err);
  }
  const body: ErrorBody = {
    error: {
      status,
      code: known ? err.code : 'INTERNAL',
      message: known && err.expose ? err.message : reasonPhrase(status),
      requestId: c.requestId,
    },
  };
  if (err instanceof ValidationError) body.error.issues = err.issues;
  const stack = dev && status >= 500 && err instanceof Error ? (err.stack ?? String(err)) : undefined;
  if (stack !== undefined) body.error.stack = stack;

  const headers = new Headers(known ? err.headers : undefined);
  headers.set('cache-control', 'no-store');
  if (stack !== undefined && prefersHtml(c.req)) {
    headers.set('content-type', 'text/html; charset=utf-8');
    return new Response(devPage(body, stack), { status, headers });
  }
  headers.set('content-type', 'application/json; charset=utf-8');
  return new Response(JSON.stringify(body), { status, headers });
}

/** A browser navigating to the page (Accept leads with text/html) gets a readable page. */
function prefersHtml(req: Request): boolean {
  const accept = req.headers.get('accept');
  return accept !== null && accept.startsWith('text/html');
}

function devPage(body: ErrorBody, stack: string): string {
  const e = body.error;
  return `<!doctype html>
<meta charset="utf-8">
<title>${e.status} ${escapeHtml(e.message)}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem}pre{background:#f6f6f6;padding:1rem;overflow:auto}</style>
<h1>${e.status} ${escapeHtml(e.message)}</h1>
<p>Request id: <code>${escapeHtml(e.requestId)}</code>. This page is shown in development only.</p>
<pre>${escapeHtml(stack)}</pre>
`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
