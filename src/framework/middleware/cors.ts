// CORS per the Fetch standard's CORS protocol (fetch.spec.whatwg.org §3.2). The browser enforces
// it; the server's part is to answer preflights and label responses, and to never label a
// response for an origin it does not allow. Two rules that are easy to get wrong:
// - `Access-Control-Allow-Origin: *` is not honoured on credentialed requests (§3.2.5), so with
//   `credentials: true` the allowed origin is reflected instead;
// - whenever the answer depends on the request's Origin, the response says `Vary: Origin`, or a
//   shared cache would replay one origin's labels to another (RFC 9110 §12.5.5).
// Register it with `app.use()`: preflights go to paths whose routes have no OPTIONS handler, and
// only global middleware runs for those.
import type { Context } from '../context.ts';
import type { Middleware } from '../middleware.ts';
import { addVary, editHeaders } from './response-headers.ts';

export type CorsOrigin = string | readonly string[] | RegExp | ((origin: string) => boolean);

export interface CorsOptions {
  /** Allowed origins; `'*'` (the default) allows any. */
  origin?: CorsOrigin;
  /** Preflight `Access-Control-Allow-Methods`. Default GET, HEAD, PUT, POST, DELETE, PATCH. */
  methods?: readonly string[];
  /** Preflight `Access-Control-Allow-Headers`. Default: the requested ones, reflected. */
  allowHeaders?: readonly string[];
  /** `Access-Control-Expose-Headers` on actual responses. */
  exposeHeaders?: readonly string[];
  /** Allow cookies and HTTP auth (`Access-Control-Allow-Credentials: true`). */
  credentials?: boolean;
  /** Preflight `Access-Control-Max-Age`, seconds. */
  maxAge?: number;
}

const DEFAULT_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH'];

export function cors(options: CorsOptions = {}): Middleware {
  // Everything that does not depend on the request is computed here, once.
  const allow = originPredicate(options.origin ?? '*');
  const any = options.origin === undefined || options.origin === '*';
  const credentials = options.credentials === true;
  // A fixed `*` is the same answer for every origin: no Vary needed.
  const varies = !any || credentials;
  const methods = (options.methods ?? DEFAULT_METHODS).join(', ');
  const allowHeaders = options.allowHeaders?.join(', ');
  const expose = options.exposeHeaders?.length ? options.exposeHeaders.join(', ') : undefined;
  const maxAge = options.maxAge === undefined ? undefined : String(Math.floor(options.maxAge));

  const label = (h: Headers, origin: string): void => {
    h.set('access-control-allow-origin', any && !credentials ? '*' : origin);
    if (credentials) h.set('access-control-allow-credentials', 'true');
  };

  return async function cors(c: Context, next) {
    const origin = c.req.headers.get('origin');
    const allowed = origin !== null && allow(origin);
    if (c.req.method === 'OPTIONS' && origin !== null && c.req.headers.has('access-control-request-method')) {
      // A preflight: answered here, never by the route (Fetch §3.2.2).
      const h = new Headers();
      if (varies) h.set('vary', 'Origin');
      if (allowed) {
        label(h, origin);
        h.set('access-control-allow-methods', methods);
        const requested = c.req.headers.get('access-control-request-headers');
        if (allowHeaders !== undefined) h.set('access-control-allow-headers', allowHeaders);
        else if (requested !== null) {
          h.set('access-control-allow-headers', requested);
          addVary(h, 'Access-Control-Request-Headers');
        }
        if (maxAge !== undefined) h.set('access-control-max-age', maxAge);
      }
      // A disallowed origin gets a plain 204 without CORS headers: the browser then fails the
      // preflight and never sends the actual request.
      return new Response(null, { status: 204, headers: h });
    }
    await next();
    if (!allowed && !varies) return;
    editHeaders(c, (h) => {
      if (varies) addVary(h, 'Origin');
      if (!allowed) return;
      label(h, origin!);
      if (expose !== undefined) h.set('access-control-expose-headers', expose);
    });
  };
}

function originPredicate(origin: CorsOrigin): (o: string) => boolean {
  if (typeof origin === 'function') return origin as (o: string) => boolean;
  if (origin instanceof RegExp) {
    // Without g/y, test() keeps no lastIndex between requests.
    const re = new RegExp(origin.source, origin.flags.replace(/[gy]/g, ''));
    return (o) => re.test(o);
  }
  if (typeof origin === 'string') return origin === '*' ? () => true : (o) => o === origin;
  const set = new Set(origin);
  return (o) => set.has(o);
}
