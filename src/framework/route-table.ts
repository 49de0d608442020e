// The routes of one app and the chain each one runs. Chains are flattened (global → groups →
// route → handler) on a route's first request and kept; `use()` afterwards bumps a version so
// the next request rebuilds, which keeps registration order free: middleware added to a group
// after its routes still applies to them, as a reader of the file would expect.
import { ANY_METHOD, Router, type RouterOptions } from './router.ts';
import type { Handler, Middleware, MiddlewareEntry, MiddlewareInfo } from './middleware.ts';

/** A level that owns middleware: the app (global) or a group. */
export interface Scope {
  readonly entries: readonly MiddlewareEntry[];
  readonly parent: Scope | null;
}

export interface RouteEntry {
  readonly method: string;
  /** The full pattern as registered, prefix included. */
  readonly path: string;
  readonly scope: Scope;
  readonly route: readonly MiddlewareEntry[];
  readonly handler: Handler;
  /** The flattened chain and the table version it was built at. */
  fns: readonly Middleware[] | null;
  builtAt: number;
}

export interface RouteInfo {
  readonly method: string;
  readonly path: string;
}

export class RouteTable {
  readonly router: Router<RouteEntry>;
  readonly entries: RouteEntry[] = [];
  version = 0;

  constructor(options: RouterOptions) {
    this.router = new Router(options);
  }

  add(method: string, path: string, scope: Scope, route: MiddlewareEntry[], handler: Handler): void {
    const entry: RouteEntry = { method, path, scope, route, handler, fns: null, builtAt: -1 };
    this.router.add(method, path, entry);
    this.entries.push(entry);
  }

  /** Middleware changed somewhere: every chain rebuilds on its next request. */
  invalidate(): void {
    this.version++;
  }

  chain(entry: RouteEntry): readonly Middleware[] {
    if (entry.fns === null || entry.builtAt !== this.version) {
      const fns: Middleware[] = this.info(entry).map((e) => e.fn);
      fns.push(entry.handler);
      entry.fns = fns;
      entry.builtAt = this.version;
    }
    return entry.fns;
  }

  /** The route's middleware in run order, outermost first. */
  info(entry: RouteEntry): MiddlewareEntry[] {
    return [...scopeEntries(entry.scope), ...entry.route];
  }

  find(path: string, method: string | undefined): RouteEntry | undefined {
    const m = method?.toUpperCase();
    const exact = this.entries.find((e) => e.path === path && (m === undefined || e.method === m || e.method === ANY_METHOD));
    if (exact !== undefined) return exact;
    const match = this.router.match(m ?? 'GET', path);
    return match.type === 'found' ? match.value : undefined;
  }

  routes(): RouteInfo[] {
    return this.entries.map((e) => ({ method: e.method === ANY_METHOD ? 'ALL' : e.method, path: e.path }));
  }
}

/** A scope's middleware with its ancestors' first. */
export function scopeEntries(scope: Scope): MiddlewareEntry[] {
  const levels: Scope[] = [];
  for (let s: Scope | null = scope; s !== null; s = s.parent) levels.unshift(s);
  return levels.flatMap((s) => s.entries);
}

export function describe(entries: readonly MiddlewareEntry[]): MiddlewareInfo[] {
  return entries.map(({ name, scope, addedAt }) => ({ name, scope, addedAt }));
}
