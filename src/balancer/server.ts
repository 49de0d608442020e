// Runtime state of one upstream server, kept apart from its config (Caddy's Upstream/Host split):
// health, in-flight count, draining and counters live here, so a reload that keeps the same url
// keeps the same object and its state. Every selection policy asks one predicate, `available`.
import { createHash } from 'node:crypto';
import { Pool } from 'undici';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { serverTlsOptions, type UpstreamTlsSettings } from './upstream-tls.ts';
import { TlsPool } from './tls-pool.ts';
import type { H1Pool } from '../proxy/h1-client/pool.ts';
import { h1PoolFor } from '../proxy/h1-client/for-server.ts';

export interface UpstreamServerConfig {
  /** `http://host:port`, `https://host:port` or `unix:/path.sock` */
  readonly url: string;
  /** The host name DNS discovery resolved to this url's address: the default SNI of an https server. */
  readonly servername?: string;
  readonly weight: number;
  /** In-flight limit; 0 = unlimited. */
  readonly maxConnections?: number;
  /** Used only when no primary server is available. */
  readonly backup?: boolean;
}

export interface ConnectionOptions {
  connections: number;
  connectTimeout: number;
  /** Response-head deadline (undici headersTimeout). */
  timeout: number;
  /** Idle deadline between response body chunks (undici bodyTimeout); default `timeout`. */
  bodyTimeout?: number;
  /** Idle keep-alive connections close after this long; default 4 s (undici's). */
  keepAliveTimeout?: number;
  /** The pool's TLS settings for `https://` servers; null/absent = system CAs, verified. */
  tls?: UpstreamTlsSettings | null;
  /** Offer h2 by ALPN to `https://` servers (undici `allowH2`). */
  http2?: boolean;
  /**
   * Which HTTP client carries requests to `http://` and `unix:` servers: Portico's own
   * (src/proxy/h1-client, the default) or an undici Pool. `https://` servers always use undici.
   */
  client?: 'portico' | 'undici';
}

export class UpstreamServer {
  readonly url: string;
  /** `host:port` or the socket path, for logs ($upstream_addr). */
  readonly address: string;
  /** Stable short id, e.g. for sticky cookies: the same url gives the same id across restarts. */
  readonly id: string;
  /** The client forward.ts uses for this server (see ConnectionOptions.client). */
  client: 'portico' | 'undici' = 'portico';
  /** Both clients are made on first use, so the one a server does not use costs nothing. */
  private makeDispatcher: () => Pool = () => { throw new Error('not configured'); };
  private undici: Pool | null = null;
  private own: H1Pool | null = null;
  private ownSettings: ConnectionOptions;
  /** The config this server was made from (its DNS-discovered servername included). */
  private readonly config: UpstreamServerConfig;
  /** node:tls client options for an `https://` server (health checks and upgrades use them too); null = cleartext. */
  tls: TlsConnectionOptions | null = null;
  weight: number;
  maxConnections: number;
  backup: boolean;
  /** Set by active health checks only; a server starts healthy until a check says otherwise. */
  healthy = true;
  /** Consecutive active-check results, toward `rise` and `fall`. */
  checkSuccesses = 0;
  checkFailures = 0;
  /** Passive health: failures in a row, ejections in a row, the last period, when it came back. */
  consecutiveFailures = 0;
  ejections = 0;
  ejectedFor = 0;
  restoredAt = 0;
  /** Slow start window (ms timestamps); 0 = at full weight. */
  slowStartFrom = 0;
  slowStartUntil = 0;
  /** No new requests; in-flight ones finish. */
  draining = false;
  /** Killed for not answering (app server workerTimeout): its failed requests get 504, not a retry. */
  timedOut = false;
  inFlight = 0;
  requests = 0;
  failures = 0;
  /** Smooth weighted round robin state (see policies/smooth-weighted.ts). */
  current = 0;

  constructor(config: UpstreamServerConfig, options: ConnectionOptions) {
    this.url = config.url;
    this.config = config;
    this.weight = config.weight;
    this.maxConnections = config.maxConnections ?? 0;
    this.backup = config.backup ?? false;
    this.id = createHash('sha256').update(config.url).digest('hex').slice(0, 12);
    this.address = config.url.startsWith('unix:') ? config.url : new URL(config.url).host;
    this.ownSettings = options;
    this.connect(options);
  }

  /**
   * New connection settings (a reload changed the pool's connections, timeouts, tls, http2 or
   * client): the current clients finish what they carry and close; the next request makes new
   * ones. Health, counters and draining stay: this is still the same server.
   */
  reconnect(options: ConnectionOptions): void {
    const undici = this.undici;
    const own = this.own;
    this.undici = null;
    this.own = null;
    this.ownSettings = options;
    this.connect(options);
    void Promise.all([undici?.close(), own?.close()]).catch(() => {});
  }

  private connect(options: ConnectionOptions): void {
    const config = this.config;
    const common = {
      connections: options.connections,
      connect: { timeout: options.connectTimeout },
      headersTimeout: options.timeout,
      bodyTimeout: options.bodyTimeout ?? options.timeout,
      // Ours is a cap: a server's `Keep-Alive: timeout=N` hint may shorten it, never lengthen it
      // (undici would otherwise keep a connection for up to 10 min on the server's word).
      keepAliveTimeout: options.keepAliveTimeout ?? 4_000,
      keepAliveMaxTimeout: options.keepAliveTimeout ?? 4_000,
    };
    if (config.url.startsWith('unix:')) {
      const socketPath = config.url.slice(5);
      this.tls = null;
      this.makeDispatcher = () => new Pool('http://localhost', { ...common, socketPath });
    } else {
      const u = new URL(config.url);
      this.tls = u.protocol === 'https:' ? serverTlsOptions(u.hostname, config.servername, options.tls ?? null, options.http2 === true) : null;
      // h2 only where ALPN can negotiate it; undici falls back to HTTP/1.1 when the server does not pick h2.
      const tls = this.tls;
      this.makeDispatcher = () => (tls === null ? new Pool(u.origin, common) : new TlsPool(u, { ...common, allowH2: options.http2 === true }, tls));
    }
    this.client = this.tls === null ? options.client ?? 'portico' : 'undici';
  }

  /** The undici Pool for this server (https servers, `client: 'undici'`). */
  get dispatcher(): Pool {
    return (this.undici ??= this.makeDispatcher());
  }

  /** Portico's own HTTP/1.1 client for this server (src/proxy/h1-client). */
  get h1(): H1Pool {
    return (this.own ??= h1PoolFor(this.url, this.ownSettings));
  }

  /** Lets in-flight requests finish, then closes whichever clients were made. */
  async close(): Promise<void> {
    await Promise.all([this.undici?.close(), this.own?.close()]);
  }

  /**
   * The weight the weighted policies use: during slow start it ramps linearly from a tenth of
   * `weight` to all of it, so a server that just came up (cold caches, JIT, pools) is not flooded.
   */
  get effectiveWeight(): number {
    if (this.slowStartUntil === 0) return this.weight;
    const now = Date.now();
    if (now >= this.slowStartUntil) {
      this.slowStartUntil = 0;
      return this.weight;
    }
    const fraction = (now - this.slowStartFrom) / (this.slowStartUntil - this.slowStartFrom);
    return this.weight * Math.max(0.1, fraction);
  }

  /** Starts the slow start ramp (no-op for a zero window). */
  rampUp(window: number): void {
    if (window <= 0) return;
    this.slowStartFrom = Date.now();
    this.slowStartUntil = this.slowStartFrom + window;
  }

  get full(): boolean {
    return this.maxConnections > 0 && this.inFlight >= this.maxConnections;
  }

  /** The one predicate every policy asks. */
  get available(): boolean {
    return this.healthy && !this.full && !this.draining;
  }

  /** Could take a request once a slot frees: a reason to queue rather than answer 503. */
  get serviceable(): boolean {
    return this.healthy && !this.draining;
  }
}
