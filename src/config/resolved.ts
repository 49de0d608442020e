// The config as the stack reads it: every default applied, every path absolute, durations in ms,
// routes in one shape per target. validateConfig() returns it deep-frozen: a reload swaps in a new
// snapshot instead of editing this one, so whoever holds the old one never sees it change.
import type { CompressOptions } from '../compress/compress.ts';

export interface ResolvedListener {
  readonly name: string;
  readonly protocol: 'http';
  readonly host: string;
  readonly port: number;
}

/** Either a unix socket (file permissions guard it) or TCP (a token guards it off loopback). */
export type ResolvedAdmin =
  | { readonly socket: string; readonly host?: undefined; readonly port?: undefined; readonly token?: string }
  | { readonly socket?: undefined; readonly host: string; readonly port: number; readonly token?: string };

export type ServerAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

export interface ResolvedServer {
  /** `http://host:port`, or `unix:` + an absolute socket path. */
  readonly url: string;
  readonly address: ServerAddress;
  readonly weight: number;
}

export interface ResolvedPool {
  readonly name: string;
  readonly servers: readonly ResolvedServer[];
  readonly connections: number;
  /** ms */
  readonly connectTimeout: number;
  /** ms to wait for the response head. */
  readonly timeout: number;
}

export interface ResolvedApp {
  readonly name: string;
  /** Absolute path of the app's module. */
  readonly module: string;
  readonly workers: number;
  readonly concurrency: number;
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
  /** null when the route does not compress. */
  readonly compress: CompressOptions | null;
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
  /** Absolute directory for sockets and other runtime files. */
  readonly runtimeDir: string;
}
