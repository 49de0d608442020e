// Runtime state of one upstream server, kept apart from its config (Caddy's Upstream/Host split):
// health, in-flight count, draining and counters live here, so a reload that keeps the same url
// keeps the same object and its state. Every selection policy asks one predicate, `available`.
import { createHash } from 'node:crypto';
import { Pool } from 'undici';

export interface UpstreamServerConfig {
  /** `http://host:port` or `unix:/path.sock` */
  readonly url: string;
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
}

export class UpstreamServer {
  readonly url: string;
  /** `host:port` or the socket path, for logs ($upstream_addr). */
  readonly address: string;
  /** Stable short id, e.g. for sticky cookies: the same url gives the same id across restarts. */
  readonly id: string;
  readonly dispatcher: Pool;
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
    this.weight = config.weight;
    this.maxConnections = config.maxConnections ?? 0;
    this.backup = config.backup ?? false;
    this.id = createHash('sha256').update(config.url).digest('hex').slice(0, 12);
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
      this.address = `unix:${socketPath}`;
      this.dispatcher = new Pool('http://localhost', { ...common, socketPath });
    } else {
      const u = new URL(config.url);
      this.address = u.host;
      this.dispatcher = new Pool(u.origin, common);
    }
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
