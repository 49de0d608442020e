// Method + path → route, over the segment tree in radix-tree.ts. Knows HTTP just enough to answer
// what a router must: HEAD served by GET (RFC 9110 §9.3.2), OPTIONS and 405 with `Allow`
// (RFC 9110 §9.3.7, §15.5.6), and the trailing-slash policy. Making the response is the app's job.
import { BadRequestError } from '../http/errors.ts';
import { Leaf, TreeNode, insert, search, type LeafRoute, type Search, type Segment } from './radix-tree.ts';
import { isStatic, paramNames, parsePattern, staticPath } from './route-pattern.ts';

/**
 * `strict`: `/a` and `/a/` are different paths. `ignore`: one trailing slash is dropped from
 * patterns and requests alike. `redirect` (default): a miss that would match with the slash
 * added or removed answers 308 to that path, so links keep working and caches see one URL.
 */
export type TrailingSlashPolicy = 'strict' | 'redirect' | 'ignore';
/** Applies to static segments only; captured params keep the case they were sent with. */
export type CasePolicy = 'sensitive' | 'insensitive';

export interface RouterOptions {
  trailingSlash?: TrailingSlashPolicy;
  case?: CasePolicy;
}

/** Registering with this method matches any method. */
export const ANY_METHOD = '*';

export type Params = Record<string, string>;

export type RouteMatch<T> =
  | { readonly type: 'found'; readonly value: T; readonly params: Params }
  /** The path exists but not for this method; `allow` is the `Allow` field value. */
  | { readonly type: 'method-not-allowed'; readonly allow: string }
  /** OPTIONS on a path with no OPTIONS route of its own: answer 204 with `Allow`. */
  | { readonly type: 'options'; readonly allow: string }
  /** Path only (still percent-encoded); the caller appends the query. */
  | { readonly type: 'redirect'; readonly location: string }
  | { readonly type: 'not-found' };

/** What the conformance suite (router-conformance.ts) needs of any router. */
export interface RouterLike<T> {
  add(method: string, pattern: string, value: T): void;
  match(method: string, path: string): RouteMatch<T>;
}

const NOT_FOUND = Object.freeze({ type: 'not-found' as const });
const NO_PARAMS: Params = Object.freeze(Object.create(null));

export class Router<T> implements RouterLike<T> {
  readonly trailingSlash: TrailingSlashPolicy;
  readonly caseSensitive: boolean;
  readonly #root = new TreeNode<T>();
  /** Fully static patterns by path: the common case costs one Map probe and no tree walk. */
  readonly #exact = new Map<string, Leaf<T>>();

  constructor(options: RouterOptions = {}) {
    this.trailingSlash = options.trailingSlash ?? 'redirect';
    this.caseSensitive = (options.case ?? 'sensitive') === 'sensitive';
  }

  add(method: string, pattern: string, value: T): void {
    const m = method === ANY_METHOD ? method : method.toUpperCase();
    for (let segments of parsePattern(pattern)) {
      if (this.trailingSlash === 'ignore') segments = dropTrailingSlash(segments);
      if (!this.caseSensitive) {
        segments = segments.map((s): Segment => (s.kind === 'static' ? { kind: 'static', text: s.text.toLowerCase() } : s));
      }
      const leaf = insert(this.#root, segments);
      if (leaf.methods.has(m)) throw new Error(`route already registered: ${m} ${pattern}`);
      const wildcard = segments[segments.length - 1].kind === 'wildcard';
      leaf.methods.set(m, { value, names: paramNames(segments), wildcard });
      if (isStatic(segments)) this.#exact.set(staticPath(segments), leaf);
    }
  }

  match(method: string, path: string): RouteMatch<T> {
    if (path.charCodeAt(0) !== 47 /* / */) return NOT_FOUND;
    if (this.trailingSlash === 'ignore' && path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const keyPath = this.caseSensitive ? path : path.toLowerCase();

    const exact = this.#exact.get(keyPath);
    if (exact !== undefined) {
      const route = pick(exact, method);
      if (route !== null) return { type: 'found', value: route.value, params: NO_PARAMS };
    }
    const lookup = new Lookup<T>(path, keyPath, method, null);
    const route = search(this.#root, 1, lookup);
    if (route !== null) return { type: 'found', value: route.value, params: toParams(route, lookup.values) };

    // The miss path: a second walk that collects every method the path answers to.
    const allow = this.#allowed(path, keyPath);
    if (allow !== null) {
      return method === 'OPTIONS' ? { type: 'options', allow } : { type: 'method-not-allowed', allow };
    }
    if (this.trailingSlash === 'redirect' && path !== '/') {
      const alt = path.endsWith('/') ? path.slice(0, -1) : path + '/';
      // `//evil.example/` would become a protocol-relative Location: an open redirect.
      if (!alt.startsWith('//') && this.#allowed(alt, this.caseSensitive ? alt : alt.toLowerCase()) !== null) {
        return { type: 'redirect', location: alt };
      }
    }
    return NOT_FOUND;
  }

  #allowed(path: string, keyPath: string): string | null {
    const lookup = new Lookup<T>(path, keyPath, '', new Set());
    search(this.#root, 1, lookup);
    return lookup.allowed!.size === 0 ? null : allowHeader(lookup.allowed!);
  }
}

class Lookup<T> implements Search<T> {
  readonly path: string;
  readonly keyPath: string;
  readonly values: string[] = [];
  readonly method: string;
  /** Non-null on the collecting pass: every leaf reached adds its methods and is refused. */
  readonly allowed: Set<string> | null;

  constructor(path: string, keyPath: string, method: string, allowed: Set<string> | null) {
    this.path = path;
    this.keyPath = keyPath;
    this.method = method;
    this.allowed = allowed;
  }

  accept(leaf: Leaf<T>): LeafRoute<T> | null {
    if (this.allowed === null) return pick(leaf, this.method);
    for (const m of leaf.methods.keys()) this.allowed.add(m);
    return null;
  }
}

function pick<T>(leaf: Leaf<T>, method: string): LeafRoute<T> | null {
  return leaf.methods.get(method)
    ?? (method === 'HEAD' ? leaf.methods.get('GET') : undefined)
    ?? leaf.methods.get(ANY_METHOD)
    ?? null;
}

/** `Allow` (RFC 9110 §10.2.1): sorted so it is stable; HEAD comes with GET, OPTIONS always works. */
function allowHeader(methods: Set<string>): string {
  if (methods.has('GET')) methods.add('HEAD');
  methods.add('OPTIONS');
  methods.delete(ANY_METHOD);
  return [...methods].sort().join(', ');
}

function toParams<T>(route: LeafRoute<T>, values: readonly string[]): Params {
  const names = route.names;
  if (names.length === 0) return NO_PARAMS;
  const params: Params = {};
  const last = names.length - 1;
  for (let i = 0; i < names.length; i++) params[names[i]] = decode(values[i], names[i], route.wildcard && i === last);
  return params;
}

/**
 * Params are decoded whole. The wildcard rest keeps reserved characters encoded (decodeURI):
 * `a%2Fb` must not turn into a path separator that a file handler would then follow.
 */
function decode(value: string, name: string, wildcard: boolean): string {
  if (!value.includes('%')) return value;
  try {
    return wildcard ? decodeURI(value) : decodeURIComponent(value);
  } catch {
    throw new BadRequestError(`malformed percent-encoding in path parameter "${name}"`, 'BAD_PATH');
  }
}

function dropTrailingSlash(segments: Segment[]): Segment[] {
  const last = segments[segments.length - 1];
  return segments.length > 1 && last.kind === 'static' && last.text === '' ? segments.slice(0, -1) : segments;
}
