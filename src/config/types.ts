// The shape of `portico.config.ts`, as users write it (input) and as the stack reads it (resolved).
// The zod schema in schema.ts is the source of truth for validation; these types are what
// `defineConfig()` offers the editor. Durations accept milliseconds or strings like "30s", "2m".

export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h'}`;

export interface ListenerConfig {
  /** Name for logs and `portico status`; defaults to `http` / `http-2` … */
  name?: string;
  protocol?: 'http';
  host?: string;
  port: number;
}

export interface AdminConfig {
  /** Unix socket path (default: `.portico/admin.sock` next to the config). */
  socket?: string;
  /** Or a TCP address; any host other than loopback requires `token`. */
  host?: string;
  port?: number;
  token?: string;
}

export interface ServerConfig {
  /** `http://host:port` or `unix:/path/to.sock` */
  url: string;
  weight?: number;
}

export interface PoolConfig {
  servers: ServerConfig[];
  /** Max keep-alive connections per server (undici Pool `connections`). */
  connections?: number;
  connectTimeout?: Duration;
  /** Time to wait for the response head (a slow app gets 504 after it). */
  timeout?: Duration;
}

export interface AppConfig {
  /** Module path, relative to the config file: `export default { fetch }` or `export default (req, res) => …`. */
  module: string;
  /** Worker processes: a number, or 'auto' for one per core (os.availableParallelism()); default 1. */
  workers?: number | 'auto';
  /** Per-worker in-flight limit; default 64. */
  concurrency?: number;
}

export interface StaticTarget {
  root: string;
  index?: string;
  /** Cache-Control for the files served: one value, or rules by glob, first match wins (`*.css`, `/assets/**`). */
  cacheControl?: string | { match: string; value: string }[];
  /** try_files fallback below the root, e.g. `/index.html` for a single-page app. */
  fallback?: string;
  /** Serve precompressed `.br` / `.zst` / `.gz` siblings when the client accepts them (default true). */
  precompressed?: boolean;
  /** Follow symlinks that lead out of the root (default false). */
  followSymlinks?: boolean;
}

export interface RedirectTarget {
  to: string;
  status?: 301 | 302 | 303 | 307 | 308;
}

export interface RespondTarget {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
}

interface RouteBase {
  name?: string;
  /** Exact host names or `*.example.com`; absent = any host. */
  host?: string | string[];
  /** Path prefix matched on segment boundaries; default `/`. */
  path?: string;
  /** Remove the matched prefix before forwarding. */
  stripPrefix?: boolean;
  /** Compress responses (br, zstd, gzip by Accept-Encoding); `true` uses the defaults. */
  compress?: boolean | { minSize?: number; types?: string[]; gzipLevel?: number; brotliQuality?: number };
}

/** Where a route sends requests; a route has exactly one of these. */
export interface RouteTargets {
  /** Pool name (a key of `pools`). */
  upstream: string;
  /** App name (a key of `apps`). */
  app: string;
  /** Directory (relative to the config file), or the object form. */
  static: string | StaticTarget;
  /** Target path or URL (301), or the object form; `$request_uri` stands for the request's path and query. */
  redirect: string | RedirectTarget;
  respond: RespondTarget;
}

/** Exactly one key of T: the others are `never`, so the editor flags a second target too. */
type OneOf<T> = { [K in keyof T]: Pick<T, K> & { [O in Exclude<keyof T, K>]?: never } }[keyof T];

export type RouteConfig = RouteBase & OneOf<RouteTargets>;

export interface PorticoConfig {
  listeners?: ListenerConfig[];
  admin?: AdminConfig;
  pools?: Record<string, PoolConfig>;
  apps?: Record<string, AppConfig>;
  routes: RouteConfig[];
  /** Peers (CIDR or address) whose X-Request-Id / X-Forwarded-* headers are believed. */
  trustedProxies?: string[];
  /** How long in-flight requests may run after SIGTERM before they are cut. */
  shutdownTimeout?: Duration;
  /** Directory for runtime files (worker sockets, admin socket); default `.portico` beside the config. */
  runtimeDir?: string;
}
