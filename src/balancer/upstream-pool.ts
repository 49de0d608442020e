// A pool of upstream servers: selection by the pool's policy (primaries first, `backup` servers
// only when no primary is available), per-server in-flight limits with a FIFO queue behind them,
// a retry budget, and the all-down answer. Server objects carry runtime state and survive
// `setServers`/`configure` (reloads) for every url that stays.
import { readFileSync } from 'node:fs';
import { UpstreamServer, type ConnectionOptions, type UpstreamServerConfig } from './server.ts';
import { createPolicy } from './policies/index.ts';
import type { PickRequest, Policy } from './policies/policy.ts';
import { WaitQueue, type QueueStats } from './wait-queue.ts';
import { RetryBudget } from './retry-budget.ts';
import { AllServersDownError, QueueFullError, QueueTimeoutError } from './errors.ts';
import { HealthChecker } from './health-check.ts';
import { DnsDiscovery, type Discovery, type DiscoveryConfig } from './dns-discovery.ts';
import { SrvDiscovery } from './srv-discovery.ts';
import { OutlierDetector } from './outlier-detection.ts';
import { DEFAULT_SETTINGS, type PoolLog, type PoolSettings } from './pool-settings.ts';
import type { ResolvedHealthCheck } from '../config/resolved.ts';

export { UpstreamServer, type UpstreamServerConfig, type ConnectionOptions } from './server.ts';
export { DEFAULT_SETTINGS, type PoolLog, type PoolSettings } from './pool-settings.ts';

/** Gives an AbortSignal on demand (a RequestContext): acquire() asks only when the request has to queue. */
export interface SignalSource {
  readonly signal: AbortSignal;
}

export class UpstreamPool {
  readonly name: string;
  private servers: UpstreamServer[] = [];
  private primaries: UpstreamServer[] = [];
  private backups: UpstreamServer[] = [];
  private connection: ConnectionOptions;
  private connectionKey: string;
  settings: PoolSettings = DEFAULT_SETTINGS;
  policy: Policy = createPolicy(DEFAULT_SETTINGS.policy);
  private policyKey = JSON.stringify(DEFAULT_SETTINGS.policy);
  readonly queue = new WaitQueue<UpstreamServer>(DEFAULT_SETTINGS.queue.maxLength, DEFAULT_SETTINGS.queue.timeout);
  readonly budget = new RetryBudget(DEFAULT_SETTINGS.retryBudget);
  /** The maintenance page's content, read once per configure (never per request). */
  maintenance: Buffer | null = null;
  private readonly log: PoolLog;
  private lastDownLog = 0;
  private suppressedDownLogs = 0;
  private checker: HealthChecker | null = null;
  private discovery: Discovery | null = null;
  private outliers: OutlierDetector | null = null;
  /** The servers as configured, before discovery expands names into addresses. */
  private declared: readonly UpstreamServerConfig[] = [];
  /** Settles when discovery has tried every name once (at once without discovery). */
  ready: Promise<void> = Promise.resolve();
  /** Servers added after construction (discovery, new workers) slow-start; the first list does not. */
  private constructed = false;

  constructor(name: string, servers: readonly UpstreamServerConfig[], connection: ConnectionOptions, settings: Partial<PoolSettings> = {}, log: PoolLog = () => {}) {
    this.name = name;
    this.connection = connection;
    this.connectionKey = JSON.stringify(connection);
    this.log = log;
    this.setServers(servers);
    this.configure(settings);
    this.constructed = true;
  }

  list(): readonly UpstreamServer[] {
    return this.servers;
  }

  find(address: string): UpstreamServer | undefined {
    return this.servers.find((s) => s.address === address || s.url === address);
  }

  /** Applies pool settings (on start and reload); the policy is rebuilt only when its config changed. */
  configure(partial: Partial<PoolSettings>): void {
    const settings = { ...DEFAULT_SETTINGS, ...partial };
    const key = JSON.stringify(settings.policy);
    if (key !== this.policyKey) {
      this.policy = createPolicy(settings.policy);
      this.policyKey = key;
    }
    this.queue.maxLength = settings.queue.maxLength;
    this.queue.timeout = settings.queue.timeout;
    this.budget.ratio = settings.retryBudget;
    this.maintenance = null;
    if (settings.maintenancePage !== null) {
      try {
        this.maintenance = readFileSync(settings.maintenancePage);
      } catch (err) {
        this.log('warn', `pool "${this.name}": cannot read maintenance page; the all-down 503 will be plain`, { path: settings.maintenancePage, err });
      }
    }
    this.settings = settings;
    this.configureHealth(settings.healthCheck);
    this.configureDiscovery(settings.discovery);
    if (settings.passive === null) {
      this.outliers?.stop();
      this.outliers = null;
    } else if (this.outliers === null) {
      this.outliers = new OutlierDetector(settings.passive, {
        name: this.name,
        hasActiveChecks: () => this.checker !== null,
        restored: (s) => this.restored(s),
        wake: () => this.wake(),
        log: this.log,
      });
    } else {
      this.outliers.config = settings.passive;
    }
  }

  /** A server is back (checks passed, ejection over): ramp it up, and let the queue use it. */
  restored(s: UpstreamServer): void {
    s.restoredAt = Date.now();
    s.rampUp(this.settings.slowStart);
    this.wake();
  }

  /** What the proxy saw from a server: a response below 500, or a connect failure, reset or 5xx. */
  report(server: UpstreamServer, ok: boolean): void {
    if (this.outliers === null) return;
    if (ok) this.outliers.success(server);
    else this.outliers.failure(server);
  }

  private configureDiscovery(config: DiscoveryConfig | null): void {
    const current = this.discovery;
    // Another kind of discovery, or another SRV name, is another server source: start afresh.
    const replaced = current !== null && config !== null && (config.type !== current.config.type
      || (config.type === 'dns-srv' && current.config.type === 'dns-srv' && config.name !== current.config.name));
    if (current !== null && (config === null || replaced)) {
      current.stop();
      this.discovery = null;
    }
    if (config === null) {
      if (current !== null) this.applyServers(this.declared);
      return;
    }
    if (this.discovery === null) {
      const discovery: Discovery = config.type === 'dns-srv'
        ? new SrvDiscovery(config, () => this.applyServers(discovery.servers(this.declared)), this.log)
        : new DnsDiscovery(config, () => this.applyServers(discovery.servers(this.declared)), this.log);
      this.discovery = discovery;
      if (!this.constructed) {
        // Names leave the list until their first answer: connecting by name would bypass discovery.
        this.applyServers(discovery.servers(this.declared));
        this.ready = discovery.watch(this.declared.map((c) => c.url));
      } else {
        // A reload that turns discovery on (or switches its kind) keeps serving the current list
        // until the new source has answered once: the pool must not go empty for a lookup's time.
        this.ready = this.applyAfterFirstAnswer(discovery, this.declared);
      }
    } else {
      this.discovery.update(config);
    }
  }

  private configureHealth(check: ResolvedHealthCheck | null): void {
    if (check === null) {
      if (this.checker === null) return;
      // Without checks nothing could ever bring a down server back: count them all healthy again.
      this.checker.stop();
      this.checker = null;
      for (const s of this.servers) s.healthy = true;
      this.wake();
      return;
    }
    if (this.checker === null) {
      this.checker = new HealthChecker(this, check, this.log);
      this.checker.start();
    } else {
      this.checker.update(check);
    }
  }

  /**
   * New connection settings from a reload (connections, timeouts, client, tls, http2): servers
   * keep their state and swap clients; requests in flight finish on the old connections.
   */
  setConnection(connection: ConnectionOptions): void {
    const key = JSON.stringify(connection);
    if (key === this.connectionKey) return;
    this.connection = connection;
    this.connectionKey = key;
    for (const s of this.servers) s.reconnect(connection);
    this.log('info', `pool "${this.name}": new connection settings; open connections finish and close`, { pool: this.name });
  }

  /** Replaces the declared server list; with discovery, names expand to their addresses. */
  setServers(configs: readonly UpstreamServerConfig[]): void {
    const discovery = this.discovery;
    const names = (list: readonly UpstreamServerConfig[]) => list.map((c) => c.url).join();
    const renamed = names(configs) !== names(this.declared);
    this.declared = configs;
    if (discovery === null) {
      this.applyServers(configs);
      return;
    }
    if (!renamed || !this.constructed) {
      this.applyServers(discovery.servers(configs));
      if (renamed) this.ready = discovery.watch(configs.map((c) => c.url));
      return;
    }
    // New names on reload: keep the current servers until the new names have answered once.
    this.ready = this.applyAfterFirstAnswer(discovery, configs);
  }

  private async applyAfterFirstAnswer(discovery: Discovery, configs: readonly UpstreamServerConfig[]): Promise<void> {
    await discovery.watch(configs.map((c) => c.url));
    // A later reload may have replaced this source or list meanwhile: then it is not ours to apply.
    if (this.discovery === discovery && this.declared === configs) this.applyServers(discovery.servers(configs));
  }

  /** Replaces the concrete server list, keeping state (and open connections) for servers that stay. */
  private applyServers(configs: readonly UpstreamServerConfig[]): void {
    const old = new Map(this.servers.map((s) => [s.url, s]));
    const next: UpstreamServer[] = [];
    for (const c of configs) {
      const kept = old.get(c.url);
      if (kept !== undefined) {
        kept.weight = c.weight;
        kept.maxConnections = c.maxConnections ?? 0;
        kept.backup = c.backup ?? false;
        old.delete(c.url);
        next.push(kept);
      } else {
        const added = new UpstreamServer(c, this.connection);
        if (this.constructed) added.rampUp(this.settings.slowStart);
        next.push(added);
      }
    }
    this.servers = next;
    this.primaries = next.filter((s) => !s.backup);
    this.backups = next.filter((s) => s.backup);
    // Servers that left finish what they carry, then their sockets close.
    for (const gone of old.values()) void gone.close().catch(() => {});
    this.wake();
  }

  /** Chooses a server without taking a slot: primaries first, backups when no primary is available. */
  pick(req: PickRequest): UpstreamServer | null {
    return this.policy.pick(this.primaries, req) ?? (this.backups.length === 0 ? null : this.policy.pick(this.backups, req));
  }

  /**
   * Takes a slot on a server for one request: at once when one is available, else after waiting
   * in the queue. Throws (503/504) when nothing can serve, the queue is full, or the wait ran out.
   */
  acquire(req: PickRequest, signal: AbortSignal | SignalSource | null = null): UpstreamServer | Promise<UpstreamServer> {
    this.budget.deposit();
    // Queued requests go first: a newcomer must not overtake them when a slot frees.
    const s = this.queue.length === 0 ? this.pick(req) : null;
    if (s !== null) return this.take(s);
    if (!this.servers.some((x) => x.serviceable)) throw this.allDown();
    // A source's signal (a RequestContext's AbortController) is made only for a request that waits.
    const watched = signal === null || signal instanceof AbortSignal ? signal : signal.signal;
    const waiting = this.queue.enqueue(req, watched, (waited) => new QueueTimeoutError(this.name, waited));
    if (waiting === null) throw new QueueFullError(this.name, this.settings.retryAfter);
    this.wake();
    return waiting;
  }

  /** A slot on another server for a retry, or null; retries never queue (they would hold a client twice as long). */
  tryAcquire(req: PickRequest): UpstreamServer | null {
    const s = this.pick(req);
    return s === null ? null : this.take(s);
  }

  /**
   * A response body that failed after its head went out: the client's connection is cut (its
   * status line is already sent), so this log line is the only place the cause is named.
   */
  bodyFailed(server: UpstreamServer, err: Error): void {
    const code = (err as { code?: string }).code;
    const what = code === 'UND_ERR_BODY_TIMEOUT'
      ? `sent no body bytes for ${this.connection.bodyTimeout ?? this.connection.timeout} ms (bodyTimeout)`
      : `failed mid-body: ${code ?? err.message}`;
    this.log('warn', `pool "${this.name}": upstream ${server.address} ${what}; client connection cut`, { pool: this.name, server: server.address, code });
  }

  /** Gives a slot back and lets the queue's oldest request have it. */
  release(server: UpstreamServer): void {
    server.inFlight--;
    this.wake();
  }

  /** Re-examines the queue after anything that can free capacity or take it all away. */
  wake(): void {
    for (let w = this.queue.peek(); w !== undefined; w = this.queue.peek()) {
      const s = this.pick(w.req);
      if (s === null) break;
      this.queue.serveHead(this.take(s));
    }
    if (this.queue.length > 0 && !this.servers.some((x) => x.serviceable)) this.queue.rejectAll(() => this.allDown());
  }

  /** Marks a server draining (no new requests) or back in service; false when no such server. */
  setDraining(address: string, draining: boolean): boolean {
    const s = this.find(address);
    if (s === undefined) return false;
    s.draining = draining;
    this.log('info', `pool "${this.name}": server ${s.address} ${draining ? 'draining' : 'back in service'}`);
    this.wake();
    return true;
  }

  status(): { policy: string; queue: QueueStats; retries: { retried: number; denied: number }; discovery?: Record<string, unknown>; servers: Record<string, unknown>[] } {
    return {
      policy: this.policy.name,
      queue: this.queue.stats(),
      retries: { retried: this.budget.retried, denied: this.budget.denied },
      ...(this.discovery === null ? {} : { discovery: this.discovery.status() }),
      servers: this.servers.map((s) => ({
        address: s.address, weight: s.weight, backup: s.backup, maxConnections: s.maxConnections,
        healthy: s.healthy, ejections: s.ejections, ejectedFor: s.ejectedFor, draining: s.draining, inFlight: s.inFlight, requests: s.requests, failures: s.failures,
      })),
    };
  }

  async close(): Promise<void> {
    this.checker?.stop();
    this.discovery?.stop();
    this.outliers?.stop();
    this.queue.rejectAll(() => this.allDown());
    await Promise.all(this.servers.map((s) => s.close().catch(() => {})));
  }

  private take(s: UpstreamServer): UpstreamServer {
    s.inFlight++;
    s.requests++;
    return s;
  }

  private allDown(): AllServersDownError {
    // One line per outage burst rather than per request: an outage must not flood the log too.
    const now = Date.now();
    if (now - this.lastDownLog >= 5_000) {
      this.log('error', `pool "${this.name}": all servers are down or draining`, { pool: this.name, servers: this.servers.length, suppressed: this.suppressedDownLogs });
      this.lastDownLog = now;
      this.suppressedDownLogs = 0;
    } else {
      this.suppressedDownLogs++;
    }
    return new AllServersDownError(this.name, this.settings.retryAfter);
  }
}
