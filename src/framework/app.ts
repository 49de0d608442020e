// The application: `{ fetch(request) }` (DESIGN.md principle 3), so it runs under Portico's app
// server, Bun, Deno or a Worker alike, and is tested in-process with `app.request()`.
import { MethodNotAllowedError, NotFoundError } from '../http/errors.ts';
import { Context, type ContextRuntime } from './context.ts';
import { DEFAULT_BODY_LIMIT } from './body.ts';
import { errorResponse, type ErrorHandler } from './errors.ts';
import { Group } from './group.ts';
import { runChain, runHandler, type Handler, type Middleware, type MiddlewareInfo } from './middleware.ts';
import { describe, RouteTable, scopeEntries, type RouteEntry, type RouteInfo } from './route-table.ts';
import type { RouteMatch, RouterOptions } from './router.ts';
import { CookieSigner, type Secrets } from './signed-cookie.ts';
import { takeWhole } from '../http/body-source.ts';

export interface AppOptions extends RouterOptions {
  /** Show stacks on 500s. Default: NODE_ENV === 'development'. */
  dev?: boolean;
  /** Default cap for `c.bodyJson()`/`c.bodyForm()`, in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * Secrets for `c.signedCookie()`/`c.setSignedCookie()`, newest first: the first signs, all
   * verify (rotation). Each at least 32 characters.
   */
  secrets?: Secrets;
}

/** Why no route answered; the unmatched chain's terminal turns it into a response. */
type Unmatched = Exclude<RouteMatch<unknown>, { type: 'found' }> | { type: 'error'; error: unknown };
const UNMATCHED = 'portico.unmatched';

export class App extends Group<''> {
  readonly dev: boolean;
  #onError: ErrorHandler | null = null;
  #notFound: Handler | null = null;
  readonly #runtime: ContextRuntime;
  /** Global middleware + the unmatched terminal, rebuilt when global middleware changes. */
  #fallback: readonly Middleware[] | null = null;
  #fallbackAt = -1;

  constructor(options: AppOptions = {}) {
    super(new RouteTable(options), '', null);
    this.dev = options.dev ?? process.env.NODE_ENV === 'development';
    const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    const signer = options.secrets === undefined ? null : new CookieSigner(options.secrets);
    this.#runtime = { bodyLimit, signer, notFound: (c) => this.#answerNotFound(c) };
  }

  /** Bound, so `export default app` and `{ fetch: app.fetch }` both work. */
  readonly fetch = (req: Request): Response | Promise<Response> => {
    const url = req.url;
    let pathAt = url.indexOf('/', url.indexOf('//') + 2);
    if (pathAt === -1) pathAt = url.length;
    const hashAt = url.indexOf('#', pathAt);
    let queryAt = url.indexOf('?', pathAt);
    if (hashAt !== -1 && queryAt > hashAt) queryAt = -1;
    const pathEnd = queryAt !== -1 ? queryAt : hashAt !== -1 ? hashAt : url.length;
    const path = pathAt === pathEnd ? '/' : url.slice(pathAt, pathEnd);

    const c = new Context(req, path, queryAt, this.#runtime);
    let match: RouteMatch<RouteEntry> | Unmatched;
    try {
      match = this.table.router.match(req.method, path);
    } catch (error) {
      match = { type: 'error', error };
    }
    let res: Response | Promise<Response>;
    if (match.type === 'found') {
      c.params = match.params;
      c.routePath = match.value.path;
      const chain = this.table.chain(match.value);
      res = chain.length === 1 ? runHandler(chain[0], c, this.#handleError) : runChain(chain, c, this.#handleError);
    } else {
      c.set(UNMATCHED, match);
      res = runChain(this.#fallbackChain(), c, this.#handleError);
    }
    // A synchronous handler's answer goes back synchronously (no promise per request).
    return res instanceof Response ? finish(req, c, res) : res.then((r) => finish(req, c, r));
  };

  /** In-process request, Hono's habit: `app.request('/api/products')`. */
  async request(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    if (input instanceof Request) return this.fetch(init === undefined ? input : new Request(input, init));
    const url = typeof input === 'string' && input.startsWith('/') ? `http://localhost${input}` : input;
    return this.fetch(new Request(url, init));
  }

  /** Replaces the default error answer; if it throws, the default answers instead. */
  onError(fn: ErrorHandler): this {
    this.#onError = fn;
    return this;
  }

  /** Replaces the default 404 (also what `c.notFound()` returns). */
  notFound(fn: Handler): this {
    this.#notFound = fn;
    return this;
  }

  routes(): RouteInfo[] {
    return this.table.routes();
  }

  /**
   * The middleware a route runs, outermost first (`rails middleware`). `routePath` is a pattern
   * as registered or a concrete path; without it, the global middleware.
   */
  middleware(routePath?: string, method?: string): MiddlewareInfo[] {
    const entry = routePath === undefined ? undefined : this.table.find(routePath, method);
    return describe(entry === undefined ? this.entries : this.table.info(entry));
  }

  readonly #handleError: ErrorHandler = async (err, c) => {
    if (this.#onError !== null) {
      try {
        return await this.#onError(err, c);
      } catch (handlerErr) {
        return errorResponse(handlerErr, c, this.dev);
      }
    }
    return errorResponse(err, c, this.dev);
  };

  #answerNotFound(c: Context): Response | Promise<Response> {
    if (this.#notFound !== null) return this.#notFound(c);
    return errorResponse(new NotFoundError(`no route for ${c.req.method} ${c.path}`), c, this.dev);
  }

  #fallbackChain(): readonly Middleware[] {
    if (this.#fallback === null || this.#fallbackAt !== this.table.version) {
      this.#fallback = [...scopeEntries(this).map((e) => e.fn), unmatched];
      this.#fallbackAt = this.table.version;
    }
    return this.#fallback;
  }
}

/** Cookies set during the request, and RFC 9110 §9.3.2: HEAD is GET without the content (headers, Content-Length included, stay). */
function finish(req: Request, c: Context, answer: Response): Response {
  let res = c.commitCookies(answer);
  if (req.method !== 'HEAD') return res;
  // A body whose size is known here (c.text(), c.json()): say it, as the GET would have.
  const whole = takeWhole(res);
  if (whole !== undefined) {
    res = new Response(null, { status: whole.status, headers: whole.headers });
    res.headers.set('content-length', String(Buffer.byteLength(whole.body)));
  } else if (res.body !== null) {
    res.body.cancel().catch(() => {});
    res = new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers });
  }
  return res;
}

/** The end of the chain for requests no route took: 404, 405, automatic OPTIONS, redirects. */
function unmatched(c: Context): Response | Promise<Response> {
  const m = c.get<Unmatched>(UNMATCHED)!;
  switch (m.type) {
    case 'options':
      return new Response(null, { status: 204, headers: { allow: m.allow } });
    case 'method-not-allowed':
      throw new MethodNotAllowedError(`${c.req.method} is not allowed on ${c.path}`, undefined, { headers: { allow: m.allow } });
    case 'redirect':
      // 308 keeps the method and body (RFC 9110 §15.4.9); the query goes along.
      return new Response(null, { status: 308, headers: { location: m.location + c.search } });
    case 'error':
      throw m.error;
    default:
      return c.notFound();
  }
}

export function createApp(options?: AppOptions): App {
  return new App(options);
}
