// Route registration, shared by the app (the root group, whose middleware is global) and by the
// groups made from it. `Prefix` rides along in the type so params in a group's prefix
// (`/shops/:shop`) are typed in its handlers too.
import { ANY_METHOD } from './router.ts';
import { callSite, middlewareEntry, type Handler, type Middleware, type MiddlewareEntry, type MiddlewareScope } from './middleware.ts';
import type { RouteTable, Scope } from './route-table.ts';

/** Zero or more route middleware, then the handler. */
export type RouteArgs<P extends string> = [...Middleware<P>[], Handler<P>];

/** `/` inside a group means the group's own path: `api.get('/')` is `/api`, not `/api/`. */
type Join<Prefix extends string, P extends string> = Prefix extends '' ? P : P extends '/' ? Prefix : `${Prefix}${P}`;

export class Group<Prefix extends string = ''> implements Scope {
  readonly prefix: string;
  readonly parent: Group<any> | null;
  readonly entries: MiddlewareEntry[] = [];
  protected readonly table: RouteTable;
  readonly #scope: MiddlewareScope;

  constructor(table: RouteTable, prefix: string, parent: Group<any> | null) {
    this.table = table;
    this.prefix = prefix;
    this.parent = parent;
    this.#scope = parent === null ? 'global' : `group:${prefix}`;
  }

  /** Adds middleware to every route of this scope, named after the function unless named here. */
  use(fn: Middleware): this;
  use(name: string, fn: Middleware): this;
  use(nameOrFn: string | Middleware, maybeFn?: Middleware): this {
    const [name, fn] = typeof nameOrFn === 'string' ? [nameOrFn, maybeFn!] : [undefined, nameOrFn];
    if (typeof fn !== 'function') throw new TypeError('use(): middleware must be a function');
    this.entries.push(middlewareEntry(fn, name, this.#scope, callSite()));
    this.table.invalidate();
    return this;
  }

  get<P extends string>(path: P, ...args: RouteArgs<Join<Prefix, P>>): this {
    return this.on('GET', path, ...args);
  }

  post<P extends string>(path: P, ...args: RouteArgs<Join<Prefix, P>>): this {
    return this.on('POST', path, ...args);
  }

  put<P extends string>(path: P, ...args: RouteArgs<Join<Prefix, P>>): this {
    return this.on('PUT', path, ...args);
  }

  patch<P extends string>(path: P, ...args: RouteArgs<Join<Prefix, P>>): this {
    return this.on('PATCH', path, ...args);
  }

  delete<P extends string>(path: P, ...args: RouteArgs<Join<Prefix, P>>): this {
    return this.on('DELETE', path, ...args);
  }

  options<P extends string>(path: P, ...args: RouteArgs<Join<Prefix, P>>): this {
    return this.on('OPTIONS', path, ...args);
  }

  /** Any method (a route of its own methods still wins on its path). */
  all<P extends string>(path: P, ...args: RouteArgs<Join<Prefix, P>>): this {
    return this.on(ANY_METHOD, path, ...args);
  }

  on<P extends string>(method: string | readonly string[], path: P, ...args: RouteArgs<Join<Prefix, P>>): this {
    if (args.length === 0) throw new TypeError(`route ${path}: a handler is required`);
    const handler = args[args.length - 1] as Handler;
    const addedAt = callSite();
    const route = (args.slice(0, -1) as Middleware[]).map((fn) => middlewareEntry(fn, undefined, 'route', addedAt));
    const full = joinPath(this.prefix, path);
    for (const m of typeof method === 'string' ? [method] : method) {
      this.table.add(m === ANY_METHOD ? m : m.toUpperCase(), full, this, route, handler);
    }
    return this;
  }

  /** Routes under `prefix` with their own middleware; `fn`, if given, registers them in place. */
  group<Q extends string>(prefix: Q, fn?: (g: Group<Join<Prefix, Q>>) => void): Group<Join<Prefix, Q>> {
    if (!prefix.startsWith('/') || (prefix.length > 1 && prefix.endsWith('/'))) {
      throw new Error(`group prefix must start with "/" and not end with one: ${JSON.stringify(prefix)}`);
    }
    const g = new Group<Join<Prefix, Q>>(this.table, joinPath(this.prefix, prefix), this);
    fn?.(g);
    return g;
  }
}

function joinPath(prefix: string, path: string): string {
  if (prefix === '' || prefix === '/') return path;
  return path === '/' ? prefix : prefix + path;
}
