// The config as the stack reads it: every default applied, every path absolute, durations in ms,
// routes in one shape per target. validateConfig() returns it deep-frozen: a reload swaps in a new
// snapshot instead of editing this one, so whoever holds the old one never sees it change.
import type { CompressOptions } from '../compress/compress.ts';
import type { EdgeLimits } from '../edge/limits.ts';

export interface ResolvedListener {
  readonly name: string;
  readonly protocol: 'http';
  readonly host: string;
  readonly port: number;
  /** null: cleartext HTTP/1.1. Otherwise HTTPS with h2 + HTTP/1.1; cert paths are absolute. */
  readonly tls: ResolvedTls | null;
  /** Hosts lowercased; empty `hosts` = every host. */
  readonly redirectToHttps: { readonly port: number; readonly hosts: readonly string[] } | null;
  /** maxAge in seconds. */
  readonly hsts: { readonly maxAge: number; readonly includeSubDomains: boolean; readonly preload: boolean; readonly hosts: readonly string[] } | null;
  /** Lowercased alias → canonical host. */
  readonly canonicalHosts: Readonly<Record<string, string>>;
  /** Read a PROXY protocol v1/v2 header from trusted peers before HTTP. */
  readonly proxyProtocol: boolean;
  /** Which HTTP/1.1 implementation serves the listener (src/edge/h1 for 'portico'). */
  readonly engine: 'node' | 'portico';
  /** SO_REUSEPORT on the listening socket. */
  readonly reusePort: boolean;
  /** Every limit with its default applied (src/edge/limits.ts); times in ms. */
  readonly limits: EdgeLimits;
}

export type ResolvedTls =
  | { readonly kind: 'files'; readonly certs: readonly { readonly cert: string; readonly key: string }[] }
  /** Issued at start from the development CA in runtimeDir, for the routes' hosts and localhost. */
  | { readonly kind: 'dev' }
  /** RFC 8555 (src/edge/acme); storage null = `<runtimeDir>/acme`, hosts null = the routes' exact hosts. */
  | { readonly kind: 'acme'; readonly acme: ResolvedAcme };

export interface ResolvedAcme {
  readonly directory: string;
  readonly email: string;
  readonly hosts: readonly string[] | null;
  readonly storage: string | null;
  /** ms */
  readonly renewBefore: number;
  readonly challenge: 'http-01' | 'tls-alpn-01';
  readonly caCert: string | null;
  readonly redis: { readonly url: string } | null;
}

/** Either a unix socket (file permissions guard it) or TCP (a token guards it off loopback). */
export type ResolvedAdmin =
  | { readonly socket: string; readonly host?: undefined; readonly port?: undefined; readonly token?: string }
  | { readonly socket?: undefined; readonly host: string; readonly port: number; readonly token?: string };

export type ServerAddress =
  /** `secure`: an `https://` server, reached over TLS (the pool's `tls`). */
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly secure: boolean }
  | { readonly kind: 'unix'; readonly path: string };

export interface ResolvedServer {
  /** `http://host:port`, `https://host:port`, or `unix:` + an absolute socket path. */
  readonly url: string;
  readonly address: ServerAddress;
  readonly weight: number;
  /** In-flight limit; 0 = unlimited. */
  readonly maxConnections: number;
  /** Used only when no primary server is available. */
  readonly backup: boolean;
}

export type ResolvedPolicy =
  | { readonly name: 'round-robin' | 'weighted-round-robin' | 'least-outstanding' | 'power-of-two' | 'first-available' }
  | { readonly name: 'consistent-hash'; readonly key: { readonly from: 'ip' } | { readonly from: 'header' | 'cookie'; readonly name: string } }
  | { readonly name: 'sticky-cookie'; readonly cookie: string };

export interface ResolvedHealthCheck {
  readonly type: 'http' | 'tcp';
  readonly method: string;
  readonly path: string;
  /** Inclusive range of statuses that count as healthy. */
  readonly status: readonly [number, number];
  /** Substring the body must contain; null = any body. */
  readonly body: string | null;
  /** ms */
  readonly interval: number;
  /** ms */
  readonly timeout: number;
  readonly rise: number;
  readonly fall: number;
}

export interface ResolvedPassive {
  /** Connect failures or 5xx in a row that eject a server. */
  readonly failures: number;
  /** ms of the first ejection; doubles with each ejection in a row. */
  readonly ejectFor: number;
  /** ms cap. */
  readonly maxEjectFor: number;
}

export type ResolvedDiscovery = {
  readonly type: 'dns';
  /** ms between lookups. */
  readonly ttl: number;
  /** `ip:port` of the DNS server; null = the system's. */
  readonly resolver: string | null;
} | {
  /** Servers are the SRV answer's targets (RFC 2782); the pool declares none. */
  readonly type: 'dns-srv';
  /** Lowercase, no trailing dot. */
  readonly name: string;
  readonly ttl: number;
  readonly resolver: string | null;
};

export interface ResolvedPool {
  readonly name: string;
  readonly servers: readonly ResolvedServer[];
  readonly connections: number;
  /** ms */
  readonly connectTimeout: number;
  /** ms to wait for the response head. */
  readonly timeout: number;
  /** ms allowed between response body chunks. */
  readonly bodyTimeout: number;
  /** ms an idle keep-alive connection to a server stays open. */
  readonly keepAliveTimeout: number;
  /** HTTP client for http:// and unix: servers; https:// servers always use undici. */
  readonly client: 'portico' | 'undici';
  readonly policy: ResolvedPolicy;
  /** ms for timeout. */
  readonly queue: { readonly maxLength: number; readonly timeout: number };
  readonly retries: number;
  readonly retryBudget: number;
  /** Seconds, for Retry-After. */
  readonly retryAfter: number;
  /** Absolute path of the all-down page; null = the plain 503. */
  readonly maintenancePage: string | null;
  readonly healthCheck: ResolvedHealthCheck | null;
  /** Server host names resolved to all their addresses, re-resolved every ttl; null = connect by name. */
  readonly discovery: ResolvedDiscovery | null;
  /** Passive ejection; null = off. */
  readonly passive: ResolvedPassive | null;
  /** ms over which a recovered or added server ramps up to its weight; 0 = off. */
  readonly slowStart: number;
  /** TLS client settings for the pool's `https://` servers; null = defaults (system CAs, verified). */
  readonly tls: ResolvedUpstreamTls | null;
  /** Offer h2 by ALPN to `https://` servers (undici `allowH2`). */
  readonly http2: boolean;
}

/** Absolute PEM file paths (read when the pool's connections are set up, see src/balancer/upstream-tls.ts). */
export interface ResolvedUpstreamTls {
  /** CA certificates to trust instead of the system store; empty = the system store. */
  readonly ca: readonly string[];
  /** SNI and the name the certificate must carry; null = the url's host when it is a name. */
  readonly servername: string | null;
  readonly rejectUnauthorized: boolean;
  /** Client certificate and key for mutual TLS; both or neither. */
  readonly cert: string | null;
  readonly key: string | null;
}

export interface ResolvedApp {
  readonly name: string;
  /** Absolute path of the app's module. */
  readonly module: string;
  readonly workers: number;
  readonly concurrency: number;
  /** ms; a worker silent this long is killed and replaced. */
  readonly workerTimeout: number;
  /** ms; the drain bound for this app's workers (the stack's shutdownTimeout unless set). */
  readonly gracefulTimeout: number;
  /** Recycling limits; 0 = off. */
  readonly maxRequests: number;
  readonly maxRequestsJitter: number;
  /** Bytes of RSS. */
  readonly maxMemory: number;
  /** Worker processes behind sockets, or the module imported into the data-plane process. */
  readonly mode: 'workers' | 'in-process';
}

export interface ResolvedMatch {
  readonly methods?: readonly string[];
  readonly headers?: Readonly<Record<string, string | readonly string[] | boolean>>;
  readonly query?: Readonly<Record<string, string | readonly string[] | boolean>>;
  readonly clientIp?: readonly string[];
}

export interface ResolvedHeaderRules {
  readonly set: Readonly<Record<string, string>>;
  readonly add: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

interface ResolvedRouteBase {
  /** Position in `routes`: config order breaks ties between equally specific routes. */
  readonly index: number;
  /** The user's name, or a stable description like `/api → pool web`. */
  readonly name: string;
  /** Lowercased host names or `*.example.com`; empty = any host. */
  readonly hosts: readonly string[];
  /** Path prefix: starts with "/", no trailing slash except for "/" itself. */
  readonly path: string;
  readonly stripPrefix: boolean;
  /** How `path` matches: a segment-boundary prefix, one exact path, or a regex (then `path` is its source). */
  readonly pathKind: 'prefix' | 'exact' | 'regex';
  readonly match: ResolvedMatch | null;
  readonly rewrite: { readonly from: string; readonly to: string } | null;
  readonly requestHeaders: ResolvedHeaderRules | null;
  readonly responseHeaders: ResolvedHeaderRules | null;
  readonly hostHeader: string | null;
  readonly rewriteLocation: boolean;
  /** Upgrade proxying (upstream and app routes); null = refused. */
  readonly websocket: { readonly idleTimeout: number } | null;
  /** Status → absolute file path. */
  readonly errorPages: Readonly<Record<string, string>>;
  /** null when the route does not compress. */
  readonly compress: CompressOptions | null;
  /** The route's shared cache (src/cache); absent when the route does not cache. */
  readonly cache?: ResolvedCache;
  /** Request body cap in bytes (413 past it, src/edge/body-limit.ts); absent = none. */
  readonly maxBodySize?: number;
  /** Bytes to buffer a request body up to before forwarding; null = stream it. */
  readonly bufferRequest: number | null;
}

/** Per-route cache settings, every default applied (src/config/cache-schema.ts). */
export interface ResolvedCache {
  readonly store: 'memory' | 'redis';
  /** With store 'redis': the server (shared by every instance), key prefix, entry TTL in ms. */
  readonly redis?: { readonly url: string; readonly prefix?: string; readonly ttl?: number };
  /** Who may send `PURGE <url>`: client addresses (CIDR) and/or a bearer token. Absent: PURGE is not special. */
  readonly purge?: { readonly allow?: readonly string[]; readonly token?: string };
  readonly maxBytes: number;
  readonly maxObjectBytes: number;
  readonly heuristicFraction: number;
  /** ms */
  readonly maxHeuristic: number;
  /** ms */
  readonly coalesceTimeout: number;
  /** ms past expiry that stale content may stand in for a failed origin (when the response set no stale-if-error). */
  readonly grace: number;
  readonly keyHeaders: readonly string[];
}

export interface UpstreamRoute extends ResolvedRouteBase {
  readonly kind: 'upstream';
  /** Pool name, a key of `pools`. */
  readonly upstream: string;
}

export interface AppRoute extends ResolvedRouteBase {
  readonly kind: 'app';
  /** App name, a key of `apps`. */
  readonly app: string;
}

export interface StaticRoute extends ResolvedRouteBase {
  readonly kind: 'static';
  readonly static: {
    readonly root: string;
    readonly index: string;
    readonly cacheControl?: string | readonly { readonly match: string; readonly value: string }[];
    readonly fallback?: string;
    readonly precompressed: boolean;
    readonly followSymlinks: boolean;
  };
}

export interface RedirectRoute extends ResolvedRouteBase {
  readonly kind: 'redirect';
  readonly redirect: { readonly to: string; readonly status: 301 | 302 | 303 | 307 | 308 };
}

export interface RespondRoute extends ResolvedRouteBase {
  readonly kind: 'respond';
  readonly respond: { readonly status: number; readonly body: string; readonly headers: Readonly<Record<string, string>> };
}

export type ResolvedRoute = UpstreamRoute | AppRoute | StaticRoute | RedirectRoute | RespondRoute;

export interface ResolvedConfig {
  /** Absolute directory of the config file; relative paths in the config were resolved against it. */
  readonly baseDir: string;
  readonly listeners: readonly ResolvedListener[];
  readonly admin: ResolvedAdmin;
  readonly pools: Readonly<Record<string, ResolvedPool>>;
  readonly apps: Readonly<Record<string, ResolvedApp>>;
  readonly routes: readonly ResolvedRoute[];
  /** Addresses or CIDR ranges. */
  readonly trustedProxies: readonly string[];
  /** ms */
  readonly shutdownTimeout: number;
  /** null = no access log; path null = stdout. */
  readonly accessLog: { readonly format: string; readonly path: string | null } | null;
  /** Absolute directory for sockets and other runtime files. */
  readonly runtimeDir: string;
  /** Data-plane processes `portico up` runs (≥ 1; 'auto' resolved to the core count). */
  readonly processes: number;
}
