// The composition root: wires the layers in journey order (edge → routing → route target) for
// one config snapshot, and swaps snapshots on reload. Runtime state (pools' connections and
// counters, app workers) lives here, apart from the immutable config, so it survives a reload.
import type { AddressInfo } from 'node:net';
import type { Handler, Layer } from './http/types.ts';
import { compose } from './http/compose.ts';
import type { ResolvedApp, ResolvedCache, ResolvedConfig, ResolvedRoute } from './config/resolved.ts';
import type { EdgeRuntime } from './edge/request-mapping.ts';
import { startListener, type EdgeListener } from './edge/listener.ts';
import { AcmeChallenges } from './edge/acme/challenges.ts';
import { trustedPeers, type TrustedPeers } from './edge/trusted-peers.ts';
import { RouteTable, type RouteEntry } from './routing/route-table.ts';
import { routingHandler, type RouteTarget } from './routing/router-layer.ts';
import { withRouteRules } from './routing/route-rules.ts';
import { handleUpgrade, type UpgradeDeps, type UpgradeStats, type UpgradeTarget } from './proxy/upgrade.ts';
import { compileConditions } from './routing/conditions.ts';
import { buildTarget, type StageInfo } from './routing/targets.ts';
import { UpstreamPool } from './balancer/upstream-pool.ts';
import { loadUpstreamTls } from './balancer/upstream-tls.ts';
import { compressHandler } from './compress/compress.ts';
import { bodyLimitHandler } from './edge/body-limit.ts';
import { startAppServer, type AppServer, type WorkerSettings } from './appserver/index.ts';
import { InProcessApps } from './appserver/in-process/in-process-apps.ts';
import type { Log } from './observability/logger.ts';
import { compileFormat, type Formatter } from './observability/access-log.ts';
import { createAccessLogWriter, type AccessLogWriter } from './observability/access-log-writer.ts';
import { describeRoute } from './routing/describe.ts';
import { createHttpCache, type HttpCache, type PurgeRequest } from './cache/index.ts';

export interface StackOptions {
  log: Log;
  /** Where access log lines go; none when absent. */
  /** Write the access log the config describes (`portico up` does; embedded and test stacks default to off). */
  accessLog?: boolean;
  /** Extra layers in front of routing (outermost first), e.g. for benchmarks or embedding. */
  layers?: Layer[];
  /**
   * Worker-mode apps run elsewhere and this stack only follows their sockets (a data-plane replica
   * uses the primary's workers, src/dataplane): no app server is started here for them.
   */
  appSockets?: AppSocketSource;
  /**
   * Awaited on stop after this stack's own in-flight requests, before its app workers stop: the
   * data-plane primary's replicas still send requests to those workers while they drain.
   */
  beforeAppsStop?: () => Promise<unknown>;
}

/** Where a stack that does not run its apps' workers learns their sockets. */
export interface AppSocketSource {
  sockets(app: string): readonly string[];
  /** Called with an app's name whenever its sockets change. */
  onChange(listener: (app: string) => void): void;
}

export interface RouteDescription {
  index: number;
  name: string;
  hosts: readonly string[];
  path: string;
  target: string;
  stages: StageInfo[];
}

interface Snapshot {
  config: ResolvedConfig;
  handler: Handler;
  trusted: TrustedPeers;
  routes: RouteDescription[];
  accessLogFormat: Formatter | null;
  /** Routing for upgrade requests (WebSockets), which bypass the handler chain after routing. */
  upgrades: RouteTable<UpgradeChoice>;
}

interface UpgradeChoice {
  when: RouteTarget['when'];
  target: () => UpgradeTarget | null;
}

export class Stack implements EdgeRuntime {
  private snapshot: Snapshot;
  private readonly options: StackOptions;
  private readonly pools = new Map<string, UpstreamPool>();
  private readonly appPools = new Map<string, UpstreamPool>();
  private readonly apps = new Map<string, AppServer>();
  /** The module each worker app was started with: a reload rolls workers on the same file. */
  private readonly appModules = new Map<string, string>();
  /** Apps with `mode: 'in-process'`: imported into this process, called without a socket. */
  private readonly inProcessApps: InProcessApps;
  /** Each cached route's cache, by route name and settings: its content survives a reload that keeps them. */
  private readonly caches = new Map<string, HttpCache>();
  private readonly servers: EdgeListener[] = [];
  private stopping: Promise<void> | null = null;
  readonly startedAt = Date.now();
  /** ACME HTTP-01 answers: filled by HTTPS listeners with `tls.acme`, served by the cleartext ones. */
  readonly acmeChallenges = new AcmeChallenges();

  constructor(config: ResolvedConfig, options: StackOptions) {
    this.options = options;
    this.inProcessApps = new InProcessApps(options.log);
    this.snapshot = this.build(config);
    if (options.accessLog === true && config.accessLog !== null) {
      this.accessLog = createAccessLogWriter(config.accessLog.path);
      this.accessLogPath = config.accessLog.path;
      this.onResponse = (req, res, ctx) => {
        const format = this.snapshot.accessLogFormat;
        if (format !== null) this.accessLog?.write(format({ req, res, ctx, time: Date.now() }));
      };
    }
  }

  get handler(): Handler {
    return this.snapshot.handler;
  }

  get trusted(): TrustedPeers {
    return this.snapshot.trusted;
  }

  get config(): ResolvedConfig {
    return this.snapshot.config;
  }

  onResponse?: EdgeRuntime['onResponse'];
  private accessLog: AccessLogWriter | null = null;
  private accessLogPath: string | null = null;

  /** SIGUSR1: reopen the access log file after rotation (nginx's `-s reopen`). */
  reopenLogs(): void {
    this.accessLog?.reopen();
  }

  onError(err: unknown, ctx: { id: string; aborted?: boolean }): void {
    const e = err as { status?: number; code?: string };
    // A client that went away is not a server failure (nginx logs it as 499, not as an error).
    if ((e.status !== undefined && e.status < 500) || ctx.aborted === true) return;
    this.options.log('error', 'request failed', { requestId: ctx.id, code: e.code, err });
  }

  /** Starts the apps' workers first (a broken app fails the start before any port opens), then listeners. */
  async start(): Promise<void> {
    const config = this.snapshot.config;
    await this.syncApps(config, false);
    // In-process apps are imported only now: their routes get the loaded module's handler.
    if (Object.values(config.apps).some((a) => a.mode === 'in-process')) this.snapshot = this.build(config);
    // Pools that discover servers through DNS have their first answer before traffic arrives.
    await Promise.all([...this.pools.values()].map((p) => p.ready));
    for (const l of config.listeners) {
      const hosts = config.routes.flatMap((r) => r.hosts);
      const listener = await startListener(this, l, { runtimeDir: config.runtimeDir, hosts, log: this.options.log });
      (listener.httpServer as import('node:http').Server).on('upgrade', (req, socket, head) => handleUpgrade(this.upgradeDeps, req, socket, head));
      this.servers.push(listener);
      const a = listener.server.address() as AddressInfo;
      this.options.log('info', `listening on ${listener.scheme}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`, { listener: l.name });
    }
  }

  /** Actual bound addresses (port 0 in tests resolves here). */
  addresses(): { name: string; host: string; port: number }[] {
    return this.servers.map(({ name, server }) => {
      const a = server.address() as AddressInfo;
      return { name, host: a.address, port: a.port };
    });
  }

  routes(): RouteDescription[] {
    return this.snapshot.routes;
  }

  status(): Record<string, unknown> {
    return {
      pid: process.pid,
      uptime: (Date.now() - this.startedAt) / 1000,
      listeners: this.addresses(),
      websockets: { ...this.upgradeStats },
      apps: Object.fromEntries([...this.apps].map(([name, app]) => [name, app.workers()])),
      inProcessApps: this.inProcessApps.status(),
      pools: Object.fromEntries([...this.pools, ...this.appPools].map(([, p]) => [p.name, p.status()])),
      routes: this.snapshot.routes.map((r) => ({ name: r.name, target: r.target })),
      caches: Object.fromEntries([...this.caches].map(([key, c]) => [key.slice(0, key.indexOf('\0')), { ...c.counters }])),
    };
  }

  /**
   * Swaps in a new config snapshot. Apps reload with zero downtime (a broken app refuses the
   * reload and the old workers keep serving); listeners stay as they are.
   */
  async reload(config: ResolvedConfig): Promise<void> {
    const old = this.snapshot.config;
    if (JSON.stringify(old.listeners) !== JSON.stringify(config.listeners)) {
      this.options.log('warn', 'listener changes need a restart; keeping the current listeners');
    }
    await this.syncApps(config, true);
    this.snapshot = this.build(config);
    const path = config.accessLog?.path ?? null;
    if (this.accessLog !== null && path !== this.accessLogPath) {
      const previous = this.accessLog;
      this.accessLog = createAccessLogWriter(path);
      this.accessLogPath = path;
      void previous.close();
    }
    for (const [name, pool] of this.pools) {
      if (config.pools[name] === undefined) {
        this.pools.delete(name);
        void pool.close();
      }
    }
    this.options.log('info', 'configuration reloaded', { routes: config.routes.length });
  }

  /** Graceful stop: no new connections, in-flight requests finish (bounded), then everything exits. */
  stop(timeout = this.snapshot.config.shutdownTimeout): Promise<void> {
    this.stopping ??= this.doStop(timeout);
    return this.stopping;
  }

  private async doStop(timeout: number): Promise<void> {
    const closing = this.servers.map((listener) => listener.close());
    const deadline = setTimeout(() => {
      this.options.log('warn', `shutdown timeout (${timeout} ms): closing remaining connections`);
      for (const listener of this.servers) listener.closeAllConnections();
    }, timeout);
    // Keep-alive connections that finish a response afterwards must close too (nodejs/node#2642).
    const idle = setInterval(() => { for (const listener of this.servers) listener.closeIdleConnections(); }, 100);
    await Promise.all(closing);
    clearInterval(idle);
    clearTimeout(deadline);
    await this.options.beforeAppsStop?.();
    await Promise.all([...this.apps.values()].map((a) => a.stop(timeout)));
    this.inProcessApps.close();
    await Promise.all([...this.pools.values(), ...this.appPools.values()].map((p) => p.close()));
    await Promise.all([...this.caches.values()].map((c) => c.close()));
    // Last: every finished request's line is written before the process exits.
    await this.accessLog?.close();
  }

  private build(config: ResolvedConfig): Snapshot {
    const entries: RouteEntry<RouteTarget>[] = [];
    const routes: RouteDescription[] = [];
    for (const route of config.routes) {
      const built = buildTarget(route, {
        pool: (name) => this.pool(name, config),
        appPool: (name) => this.appPool(name, config),
        inProcessApp: (name, stripPrefix) => config.apps[name].mode === 'in-process' ? this.inProcessApps.handler(name, stripPrefix, config) : null,
        cache: (r) => this.cache(r),
      });
      built.handler = withRouteRules(route, built.handler, built.stages);
      if (route.compress !== null && route.cache === undefined) {
        // Outermost stage of the route, so whatever the target produced is encoded once. With a
        // cache, buildTarget puts it below the cache instead: compressed variants are stored.
        built.handler = compressHandler(built.handler, route.compress);
        built.stages.unshift({ name: 'compress', describe: `br/gzip by Accept-Encoding, ≥ ${route.compress.minSize} B` });
      }
      if (route.maxBodySize !== undefined) {
        // Outermost of all: an oversized body is refused before any stage reads it.
        built.handler = bodyLimitHandler(built.handler, route.maxBodySize);
        built.stages.unshift({ name: 'body limit', describe: `413 past ${route.maxBodySize} B` });
      }
      entries.push({ index: route.index, name: route.name, hosts: route.hosts, path: route.path, pathKind: route.pathKind, conditional: route.match !== null, target: { handler: built.handler, when: compileConditions(route.match) } });
      routes.push({ index: route.index, name: route.name, hosts: route.hosts, path: route.path, target: describeRoute(route), stages: built.stages });
    }
    this.pruneCaches(config);
    const handler = compose(this.options.layers ?? [], routingHandler(new RouteTable(entries)));
    const accessLogFormat = config.accessLog === null ? null : compileFormat(config.accessLog.format);
    const upgrades = new RouteTable(config.routes.map((route, i) => ({
      ...entries[i],
      target: { when: entries[i].target.when, target: () => this.upgradeTarget(route, config) },
    })));
    return { config, handler, trusted: trustedPeers(config.trustedProxies), routes, accessLogFormat, upgrades };
  }

  /** Where an upgrade on this route goes: the same pool its requests use, or nowhere. */
  private upgradeTarget(route: ResolvedConfig['routes'][number], config: ResolvedConfig): UpgradeTarget | null {
    if (route.websocket === null || (route.kind !== 'upstream' && route.kind !== 'app')) return null;
    // An in-process app has no server to tunnel to: its routes refuse upgrades (404 NO_UPGRADE_ROUTE).
    if (route.kind === 'app' && config.apps[route.app].mode === 'in-process') return null;
    const pool = route.kind === 'upstream' ? this.pool(route.upstream, config) : this.appPool(route.app, config);
    const connectTimeout = route.kind === 'upstream' ? config.pools[route.upstream].connectTimeout : 5_000;
    return { pool, strip: route.stripPrefix && route.pathKind === 'prefix' && route.path !== '/' ? route.path : null, idleTimeout: route.websocket.idleTimeout, connectTimeout };
  }

  /** Upgrade requests (WebSockets): routed like requests, then tunnelled by src/proxy/upgrade.ts. */
  readonly upgradeStats: UpgradeStats = { active: 0, total: 0, failed: 0 };
  private readonly upgradeDeps: UpgradeDeps = {
    trusted: { has: (a) => this.snapshot.trusted.has(a) },
    route: (req, ctx) => {
      const table = this.snapshot.upgrades;
      const hit = table.match(ctx.host, req.path, (e) => e.target.when === null || e.target.when(req, ctx));
      if (hit === null) return null;
      ctx.route = { index: hit.entry.index, name: hit.entry.name, prefix: hit.entry.path, captures: hit.captures };
      return hit.entry.target.target();
    },
    stats: this.upgradeStats,
    log: (level, msg, fields) => this.options.log(level, msg, fields),
  }

  /**
   * Drains a server (no new requests; in-flight ones finish) or puts it back, at runtime. `pool` is
   * a pool name or `app:<name>`; `server` its address (`host:port`, `unix:/path`) or url.
   */
  setDraining(pool: string, server: string, draining: boolean): 'ok' | 'no-pool' | 'no-server' {
    const p = this.pools.get(pool) ?? (pool.startsWith('app:') ? this.appPools.get(pool.slice(4)) : undefined);
    if (p === undefined) return 'no-pool';
    return p.setDraining(server, draining) ? 'ok' : 'no-server';
  }

  /** `POST /cache/purge`: every cached route forgets what `what` names; resolves to the number of responses dropped. */
  async purgeCache(what: PurgeRequest): Promise<number> {
    let n = 0;
    for (const cache of this.caches.values()) n += await cache.purgeBy(what);
    return n;
  }

  private cache(route: ResolvedRoute & { cache: ResolvedCache }): HttpCache {
    const key = cacheKey(route);
    let cache = this.caches.get(key);
    if (cache === undefined) {
      const warn = (msg: string, fields: Record<string, unknown>) => this.options.log('warn', msg, { route: route.name, ...fields });
      this.caches.set(key, (cache = createHttpCache(route.cache, { warn })));
    }
    return cache;
  }

  /** Caches of routes gone (or whose cache settings changed) in this snapshot free their memory. */
  private pruneCaches(config: ResolvedConfig): void {
    const live = new Set(config.routes.map(cacheKey));
    for (const [key, cache] of this.caches) {
      if (!live.has(key)) {
        this.caches.delete(key);
        void cache.close();
      }
    }
  }

  private pool(name: string, config: ResolvedConfig): UpstreamPool {
    const c = config.pools[name];
    const options = { connections: c.connections, connectTimeout: c.connectTimeout, timeout: c.timeout, bodyTimeout: c.bodyTimeout, keepAliveTimeout: c.keepAliveTimeout, client: c.client };
    const settings = {
      policy: c.policy, queue: c.queue, retries: c.retries, retryBudget: c.retryBudget, retryAfter: c.retryAfter,
      maintenancePage: c.maintenancePage, healthCheck: c.healthCheck, discovery: c.discovery, passive: c.passive,
      slowStart: c.slowStart,
    };
    const log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => this.options.log(level, msg, { pool: name, ...fields });
    let pool = this.pools.get(name);
    // TLS files are read on start and on every reload, so a rotated client certificate or CA
    // takes effect with `portico reload`.
    const transport = { tls: c.tls === null ? null : loadUpstreamTls(c.tls), http2: c.http2 };
    if (pool === undefined) {
      this.pools.set(name, (pool = new UpstreamPool(name, c.servers, { ...options, ...transport }, settings, log)));
    } else {
      // Settings first: a discovery source turned on by this reload must exist before the new
      // names arrive, so the pool keeps its current servers until the names have answered.
      pool.configure(settings);
      pool.setConnection({ ...options, ...transport });
      pool.setServers(c.servers);
    }
    return pool;
  }

  private appPool(name: string, config: ResolvedConfig): UpstreamPool {
    let pool = this.appPools.get(name);
    if (pool === undefined) {
      const c = config.apps[name];
      const log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => this.options.log(level, msg, { app: name, ...fields });
      // Workers drain after a 'change' (reload, crash): an idempotent request that meets a worker
      // connection closing under it is retried on another worker, so a reload or a kill loses no GET.
      pool = new UpstreamPool(`app:${name}`, [], appConnection(c), { retries: 2 }, log);
      this.appPools.set(name, pool);
    }
    return pool;
  }

  private async syncApps(config: ResolvedConfig, reloading: boolean): Promise<void> {
    if (this.options.appSockets !== undefined) return this.followApps(config, reloading, this.options.appSockets);
    for (const [name, c] of Object.entries(config.apps)) {
      const running = this.apps.has(name) ? 'workers' : this.inProcessApps.has(name) ? 'in-process' : c.mode;
      if (running !== c.mode) throw new Error(`apps.${name}.mode changed from '${running}' to '${c.mode}': restart to apply it (reload refused; the app keeps running as before)`);
      // Workers re-import their module on reload; a different file is a different app, not new code.
      const started = this.appModules.get(name);
      if (started !== undefined && started !== c.module) throw new Error(`apps.${name}.module changed from ${started} to ${c.module}: restart to apply it (reload refused; the app keeps running as before)`);
    }
    // Imported first: a module that fails refuses the reload before any worker is rolled.
    await this.inProcessApps.sync(config, reloading);
    for (const [name, app] of this.apps) {
      if (config.apps[name] === undefined) {
        this.apps.delete(name);
        this.appModules.delete(name);
        await app.stop(config.shutdownTimeout);
      }
    }
    for (const [name, c] of Object.entries(config.apps)) {
      if (c.mode === 'in-process') continue;
      const existing = this.apps.get(name);
      if (existing !== undefined) {
        if (!reloading) continue;
        // New code and the new count, timeouts and limits together (src/appserver/reconfigure.ts).
        await existing.reload(workerSettings(c));
        // Then a changed concurrency: the workers' connections are replaced as they free up (no-op if the same).
        this.appPools.get(name)?.setConnection(appConnection(c));
        continue;
      }
      const app = await startAppServer({
        name,
        module: c.module,
        ...workerSettings(c),
        runtimeDir: config.runtimeDir,
        log: (level, msg, fields) => this.options.log(level, msg, { app: name, ...fields }),
      });
      this.apps.set(name, app);
      this.appModules.set(name, c.module);
      const pool = this.appPool(name, config);
      const sync = () => pool.setServers(app.sockets().map((s) => ({ url: `unix:${s}`, weight: 1 })));
      app.on('change', sync);
      app.on('worker-timeout', (socket: string) => {
        const server = pool.find(`unix:${socket}`);
        if (server !== undefined) server.timedOut = true;
      });
      sync();
    }
  }

  /** The worker-mode apps' servers this stack runs (the data-plane primary shares their sockets). */
  workerApps(): ReadonlyMap<string, AppServer> {
    return this.apps;
  }

  private followingApps = false;

  /** syncApps for a stack with `appSockets`: in-process apps are imported here, worker apps only followed. */
  private async followApps(config: ResolvedConfig, reloading: boolean, source: AppSocketSource): Promise<void> {
    await this.inProcessApps.sync(config, reloading);
    const servers = (app: string) => source.sockets(app).map((s) => ({ url: `unix:${s}`, weight: 1 }));
    if (!this.followingApps) {
      this.followingApps = true;
      source.onChange((app) => this.appPools.get(app)?.setServers(servers(app)));
    }
    for (const [name, c] of Object.entries(config.apps)) {
      if (c.mode !== 'workers') continue;
      const pool = this.appPool(name, config);
      pool.setServers(servers(name));
      // A reloaded concurrency, as the primary applies it to its own pool (no-op when unchanged).
      pool.setConnection(appConnection(c));
    }
  }
}

/** How the data plane talks to an app's workers: `concurrency` connections each. */
function appConnection(c: ResolvedApp): { connections: number; connectTimeout: number; timeout: number } {
  return { connections: c.concurrency, connectTimeout: 5_000, timeout: 60_000 };
}

/** The part of an app's config its running app server can take on reload. */
function workerSettings(c: ResolvedApp): WorkerSettings {
  return { workers: c.workers, workerTimeout: c.workerTimeout, shutdownTimeout: c.gracefulTimeout, maxRequests: c.maxRequests, maxRequestsJitter: c.maxRequestsJitter, maxMemory: c.maxMemory };
}

function cacheKey(route: ResolvedRoute): string {
  // Compression on or off changes what the variants hold (compressed, keyed by coding): a fresh cache.
  return `${route.name}\0${JSON.stringify(route.cache ?? null)}\0${route.compress !== null}`;
}
