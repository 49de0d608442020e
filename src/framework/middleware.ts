// The onion: middleware runs code before `await next()` on the way in and after it on the way
// out. A route's chain (global → groups → route → handler) is a flat array built once; running it
// costs one `next` closure per request, not one per layer (koa-compose binds one per layer).
import { getCallSites } from 'node:util';
import { fileURLToPath } from 'node:url';
import { isAbsolute, relative, sep } from 'node:path';
import type { Context } from './context.ts';
import type { ErrorHandler } from './errors.ts';

export type Next = () => Promise<Response>;

/** The end of a chain: answers the request. */
export type Handler<P extends string = any> = (c: Context<P>) => Response | Promise<Response>;

/**
 * Returns a Response to answer (or replace what `next()` gave), or nothing to pass on the
 * response below it (`c.res`), possibly after changing its headers.
 */
export type Middleware<P extends string = any> =
  (c: Context<P>, next: Next) => Response | void | Promise<Response | void>;

export type MiddlewareScope = 'global' | 'route' | `group:${string}`;

/** What `app.middleware()` lists, like `rails middleware`. */
export interface MiddlewareInfo {
  readonly name: string;
  readonly scope: MiddlewareScope;
  /** `file:line` of the registration, relative to the working directory. */
  readonly addedAt: string;
}

export interface MiddlewareEntry extends MiddlewareInfo {
  readonly fn: Middleware;
}

export function middlewareEntry(fn: Middleware, name: string | undefined, scope: MiddlewareScope, addedAt: string): MiddlewareEntry {
  return { name: name ?? (fn.name || 'anonymous'), scope, addedAt, fn };
}

const FRAMEWORK_DIR = fileURLToPath(new URL('.', import.meta.url));

/**
 * Where the user registered something: the first stack frame outside the framework's own source
 * (its tests count as users). Structured call sites, so no stack-string parsing and no
 * dependence on `Error.stackTraceLimit` or someone's `Error.prepareStackTrace`.
 */
export function callSite(): string {
  for (const site of getCallSites(30)) {
    let file = site.scriptName;
    if (file.startsWith('file:')) file = fileURLToPath(file);
    if (!isAbsolute(file)) continue; // node:internal, eval
    if (file.startsWith(FRAMEWORK_DIR) && !file.endsWith('.test.ts')) continue;
    const rel = relative(process.cwd(), file);
    return `${rel.startsWith('..' + sep) ? file : rel}:${site.lineNumber}`;
  }
  return 'unknown';
}

/**
 * Runs `fns` (middleware…, handler) as an onion. An error thrown at any level becomes a response
 * right there (`onError`), so the levels above still see a response: a logger after `await next()`
 * logs the 500, a header-adding middleware still adds its header.
 */
export function runChain(fns: readonly Middleware[], c: Context, onError: ErrorHandler): Promise<Response> {
  let i = 0;
  const next: Next = async () => {
    // Only a handler that calls `next()` gets here: there is nothing below it.
    if (i >= fns.length) return (c.res = await c.notFound());
    const fn = fns[i++];
    // timing(): stamp the handler (the chain's last function) only when asked.
    const t = i === fns.length ? c.timing : undefined;
    let out: Response | void;
    try {
      if (t !== undefined) t.handlerStart = performance.now();
      try {
        out = await fn(c, next);
      } finally {
        if (t !== undefined) t.handlerEnd = performance.now();
      }
      if ((out === undefined || out === null) && c.res === undefined) {
        throw new Error(`"${fn.name || 'anonymous'}" returned no response and did not call next()`);
      }
    } catch (err) {
      out = await onError(err, c);
    }
    if (out !== undefined && out !== null) c.res = out;
    return c.res!;
  };
  return next();
}

const NO_FNS: readonly Middleware[] = [];

/**
 * A chain of one (a route with no middleware): the handler's answer comes straight back,
 * synchronously when the handler is synchronous, so a plain `c.text()` route costs no `next`
 * closure and no promise (Hono's fast path). Same rules as `runChain`: a handler calling
 * `next()` gets the 404, an error becomes `onError`'s response.
 */
export function runHandler(fn: Middleware, c: Context, onError: ErrorHandler): Response | Promise<Response> {
  let out: Response | void | Promise<Response | void>;
  try {
    out = fn(c, () => runChain(NO_FNS, c, onError));
    if (out === undefined || out === null || out instanceof Response) return accept(out, fn, c);
  } catch (err) {
    return keep(onError(err, c), c);
  }
  return Promise.resolve(out).then((v) => accept(v, fn, c)).catch((err: unknown) => keep(onError(err, c), c));
}

function accept(out: Response | void, fn: Middleware, c: Context): Response {
  if (out !== undefined && out !== null) return (c.res = out);
  if (c.res === undefined) throw new Error(`"${fn.name || 'anonymous'}" returned no response and did not call next()`);
  return c.res;
}

function keep(res: Response | Promise<Response>, c: Context): Response | Promise<Response> {
  if (res instanceof Response) return (c.res = res);
  return res.then((r) => (c.res = r));
}
