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
  /**
   * Serve HTTPS (h2 and HTTP/1.1 by ALPN): PEM files relative to the config, picked per handshake by
   * SNI from each certificate's subjectAltName (wildcards included); the first pair is the default.
   * Files are watched and swapped without dropping connections. `'dev'` issues a certificate from a
   * local development CA in the runtime dir (`portico cert install-ca`).
   */
  tls?: 'dev' | { certs: { cert: string; key: string }[] } | { acme: AcmeConfig };
  /**
   * Cleartext listeners: answer every request (or those for `hosts`) with a redirect to https —
   * 301 for GET/HEAD, 308 otherwise — before any route runs. `port` defaults to 443.
   * `/.well-known/acme-challenge/` is never redirected.
   */
  redirectToHttps?: true | { port?: number; hosts?: string | string[] };
  /** HTTPS listeners: Strict-Transport-Security on every response (maxAge in seconds, default one year). */
  hsts?: true | { maxAge?: number; includeSubDomains?: boolean; preload?: boolean; hosts?: string | string[] };
  /** Alias → canonical host, answered with a 301/308 to the canonical one (`{ 'www.example.com': 'example.com' }`). */
  canonicalHosts?: Record<string, string>;
  /**
   * Expect the PROXY protocol (v1 or v2) from an L4 balancer before each connection's first byte;
   * accepted only from `trustedProxies`, malformed headers closed. On a `tls` listener the header
   * comes before the ClientHello.
   */
  proxyProtocol?: boolean;
  /**
   * HTTP/1.1 implementation: `'node'` (node:http, the default) or `'portico'` (Portico's own strict
   * framing on `net` sockets, docs/io-model.md). On an https listener it serves the connections that
   * negotiate HTTP/1.1 (or no ALPN); h2 stays on node:http2.
   */
  engine?: 'node' | 'portico';
  /**
   * SO_REUSEPORT (Linux): several processes (`portico up` instances) bind the same address and the
   * kernel spreads new connections between them. Default false: a second bind fails (EADDRINUSE).
   */
  reusePort?: boolean;
  /** Limits against abuse; each has a default (README: listeners[].limits). */
  limits?: {
    headersTimeout?: Duration;
    requestTimeout?: Duration;
    keepAliveTimeout?: Duration;
    maxHeaderSize?: number;
    maxHeaderCount?: number;
    maxUrlLength?: number;
    maxConnections?: number;
    maxConnectionsPerIp?: number;
    maxConcurrentStreams?: number;
  };
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
  /** `http://host:port`, `https://host:port` (TLS, see the pool's `tls`) or `unix:/path/to.sock` */
  url: string;
  weight?: number;
  /** In-flight request limit (a single-threaded server takes 1); requests beyond it queue. */
  maxConnections?: number;
  /** Used only when no primary server is available. */
  backup?: boolean;
}

export type PolicyName = 'round-robin' | 'weighted-round-robin' | 'least-outstanding' | 'power-of-two' | 'consistent-hash' | 'sticky-cookie' | 'first-available';

export interface HealthCheckConfig {
  /** Default 'http'. */
  type?: 'http' | 'tcp';
  method?: string;
  path?: string;
  /** A status or inclusive range, default "200-399". */
  expectStatus?: string;
  /** Substring the response body must contain. */
  body?: string;
  /** Default 5s. */
  interval?: Duration;
  /** Default 2s. */
  timeout?: Duration;
  /** Successes to mark a down server up (default 2). */
  rise?: number;
  /** Failures to mark an up server down (default 3). */
  fall?: number;
}

export interface PoolConfig {
  /** At least one, except with `discovery: { type: 'dns-srv' }` (the SRV answer is the list). */
  servers?: ServerConfig[];
  /** Max keep-alive connections per server (undici Pool `connections`). */
  connections?: number;
  connectTimeout?: Duration;
  /** Time to wait for the response head (a slow app gets 504 after it). */
  timeout?: Duration;
  /** Idle time allowed between response body chunks; after it the client connection is cut (default: `timeout`). */
  bodyTimeout?: Duration;
  /** Idle keep-alive connections to a server are closed after this long (default 4s, undici's). */
  keepAliveTimeout?: Duration;
  /**
   * HTTP client for `http://` and `unix:` servers: `'portico'` (default; Portico's own HTTP/1.1
   * keep-alive pool, src/proxy/h1-client) or `'undici'`. `https://` servers always use undici.
   */
  client?: 'portico' | 'undici';
  /** Selection policy, default 'weighted-round-robin'; `key` is "ip", "header:<name>" or "cookie:<name>". */
  policy?: PolicyName | { name: PolicyName; key?: string; cookie?: string };
  /** Requests wait here when every server is full: beyond maxLength (default 1000) 503, after timeout (default 2m) 504. */
  queue?: { maxLength?: number; timeout?: Duration };
  /** Attempts on other servers after a failure safe to repeat; default 1. */
  retries?: number;
  /** Retries allowed as a fraction of requests; default 0.2. */
  retryBudget?: number;
  /** Retry-After on the all-down 503; default 10s. */
  retryAfter?: Duration;
  /** HTML file served with the all-down 503. */
  maintenancePage?: string;
  healthCheck?: HealthCheckConfig;
  /**
   * Resolve server host names to every address they have, again every `ttl` (default 30s), adding
   * and draining servers as the answer changes; `resolver` ("ip:port") asks that DNS server.
   */
  discovery?: { type: 'dns'; ttl?: Duration; resolver?: string }
    /**
     * RFC 2782 SRV: the servers are the answer's targets (each resolved to its addresses) and
     * ports, weighted by the SRV weight; the lowest priority is the primaries, the rest backups.
     * The pool then declares no `servers`.
     */
    | { type: 'dns-srv'; name: string; ttl?: Duration; resolver?: string };
  /**
   * Passive ejection: `failures` (default 5) connect failures or 5xx in a row take a server out for
   * `ejectFor` (default 30s, doubling per ejection in a row up to `maxEjectFor`, default 5m); with a
   * healthCheck, only passing checks bring it back.
   */
  passive?: { failures?: number; ejectFor?: Duration; maxEjectFor?: Duration };
  /** A recovered or newly added server's share ramps up over this long (weighted policies); default 0 = off. */
  slowStart?: Duration;
  /**
   * TLS to the pool's `https://` servers: `ca` (PEM file or files to trust instead of the system
   * store), `servername` (SNI and the name the certificate must carry; default the url's host when
   * it is a name), `rejectUnauthorized` (default true), `cert` + `key` (client certificate, mTLS).
   */
  tls?: { ca?: string | string[]; servername?: string; rejectUnauthorized?: boolean; cert?: string; key?: string };
  /** Offer h2 to the (all `https://`) servers by ALPN; HTTP/1.1 when a server does not pick h2. Default false. */
  http2?: boolean;
}

export interface AppConfig {
  /** Module path, relative to the config file: `export default { fetch }` or `export default (req, res) => …`. */
  module: string;
  /** Worker processes: a number, or 'auto' for one per core (os.availableParallelism()); default 1. */
  workers?: number | 'auto';
  /** Per-worker in-flight limit; default 64. */
  concurrency?: number;
  /** A worker whose event loop answers no heartbeat this long is killed and replaced (gunicorn `--timeout`); default 30s. */
  workerTimeout?: Duration;
  /** How long a stopping or replaced worker may finish in-flight requests before it is killed; default `shutdownTimeout`. */
  gracefulTimeout?: Duration;
  /** Replace a worker gracefully after this many requests (gunicorn `max_requests`); default 0 = never. */
  maxRequests?: number;
  /** Each worker's limit is `maxRequests` plus a random 0..jitter, so workers are not recycled together; default 0. */
  maxRequestsJitter?: number;
  /** Replace a worker gracefully when its RSS exceeds this many bytes (pm2 `max_memory_restart`); default 0 = never. */
  maxMemory?: number;
  /**
   * `'workers'` (default): worker processes behind unix sockets. `'in-process'`: the data-plane
   * process imports the module and calls its `fetch` directly: no socket hop, but no crash
   * isolation and one core for the app (README). `{ fetch }` apps only; `workerTimeout` is then
   * the deadline for the response head (504 `APP_TIMEOUT`).
   */
  mode?: 'workers' | 'in-process';
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

export interface HeaderRules {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

interface RouteBase {
  name?: string;
  /** Exact host names or `*.example.com`; absent = any host. */
  host?: string | string[];
  /** Path prefix matched on segment boundaries; default `/`. */
  path?: string;
  /** Instead of a prefix: one exact path (nginx `location =`), or a regex with captures (`location ~`). */
  exactPath?: string;
  pathRegex?: string;
  /** Further conditions, all of which must hold: methods, header and query values, client address. */
  match?: {
    methods?: string[];
    headers?: Record<string, string | string[] | boolean>;
    query?: Record<string, string | string[] | boolean>;
    clientIp?: string[];
  };
  /** Rewrite the path (and query) before the target sees it: `$1` / `$<name>` refer to `from`'s captures. */
  rewrite?: { from: string; to: string };
  requestHeaders?: HeaderRules;
  responseHeaders?: HeaderRules;
  /** Host sent upstream: absent = the client's (passthrough), `$upstream` = the server's host:port, or a literal. */
  hostHeader?: string;
  /** Rewrite upstream `Location`/`Content-Location` pointing at the server to the client's origin (default true). */
  rewriteLocation?: boolean;
  /** WebSocket upgrades on upstream and app routes (default on, idle timeout 5 min); `false` refuses them. */
  websocket?: false | { idleTimeout?: Duration };
  /** Replace the body of error responses with a file: `{ 404: './404.html', 503: './maintenance.html' }`. */
  errorPages?: Record<string, string>;
  /** Remove the matched prefix before forwarding. */
  stripPrefix?: boolean;
  /** Request body cap, bytes or `'10MiB'`: 413 on a larger Content-Length before reading, or as soon as a chunked/h2 body crosses it. */
  maxBodySize?: number | string;
  /**
   * Read the whole request body before forwarding (nginx `proxy_request_buffering on`): a slow
   * upload never holds an upstream connection. Capped: `maxSize` (default maxBodySize, else 8 MiB), then 413.
   */
  bufferRequest?: boolean | { maxSize: number | string };
  /** Compress responses (br, zstd, gzip by Accept-Encoding); `true` uses the defaults. */
  compress?: boolean | { minSize?: number; types?: string[]; gzipLevel?: number; brotliQuality?: number };
  /** RFC 9111 shared cache in front of the target (src/cache); `true` uses the defaults. */
  cache?: boolean | CacheConfig;
}

export interface CacheConfig {
  /** 'memory' (this process) or 'redis' (shared by every instance; needs `redis`). */
  store?: 'memory' | 'redis';
  redis?: { url: string; prefix?: string; ttl?: Duration };
  /** Allow `PURGE /path` through the data plane from these client addresses (CIDR) or with `Authorization: Bearer <token>`. */
  purge?: { allow?: string[]; token?: string };
  /** Bytes the store keeps, LRU past it: a number or "256MiB" (default 256MiB). */
  maxBytes?: number | string;
  /** Larger bodies stream through unstored (default 8MiB). */
  maxObjectBytes?: number | string;
  /** RFC 9111 §4.2.2 heuristic: fraction of the time since Last-Modified (default 0.1) … */
  heuristicFraction?: number;
  /** … bounded by this (default 1 day). */
  maxHeuristic?: Duration;
  /** How long coalesced requests wait for the one upstream fetch before going themselves (default 10s). */
  coalesceTimeout?: Duration;
  /** Serve stale content this long past expiry when the origin fails and the response set no stale-if-error (default 0). */
  grace?: Duration;
  /** Request header fields added to the cache key. */
  keyHeaders?: string[];
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
  /**
   * Access log: `combined` (default, nginx's), `main` (the seeds' `[$time_local] $host to: $upstream_addr: …`),
   * `json`, or a custom format with nginx variables; `path` a file (reopened on SIGUSR1) or `-` for stdout.
   * `false` turns it off.
   */
  accessLog?: false | { format?: string; path?: string };
  /** How long in-flight requests may run after SIGTERM before they are cut. */
  shutdownTimeout?: Duration;
  /** Directory for runtime files (worker sockets, admin socket); default `.portico` beside the config. */
  runtimeDir?: string;
  /**
   * Data-plane processes for `portico up` (nginx's `worker_processes`): default 1; `'auto'` = one per
   * core. Above 1, every listener binds with SO_REUSEPORT in each process (src/dataplane).
   */
  processes?: number | 'auto';
}

/**
 * Automatic HTTPS (RFC 8555, src/edge/acme): a certificate ordered from `directory` at start, stored
 * in `storage` (default `<runtimeDir>/acme`) and renewed `renewBefore` (default 30d) before expiry.
 * HTTP-01 answers come from the stack's cleartext listeners (port 80 in production); TLS-ALPN-01
 * answers from its https listeners (port 443), in the handshake of connections offering `acme-tls/1`.
 */
export interface AcmeConfig {
  directory: string;
  email: string;
  /** Default: the routes' exact (non-wildcard) hosts. */
  hosts?: string[];
  storage?: string;
  renewBefore?: string | number;
  /** Default `'http-01'`. */
  challenge?: 'http-01' | 'tls-alpn-01';
  /** A PEM CA to trust for the directory's own TLS (a test CA such as pebble's). */
  caCert?: string;
  /** Share the ordering lock between instances through Redis instead of a lock file in `storage`. */
  redis?: { url: string };
}
