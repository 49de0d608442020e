// The composition root: wires the layers in journey order (edge → routing → route target) for
// one config snapshot, and swaps snapshots on reload. Runtime state (pools' connections and
// counters, app workers) lives here, apart from the immutable config, so it survives a reload.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Handler, Layer } from './http/types.ts';
import { compose } from './http/compose.ts';
import type { ResolvedConfig } from './config/resolved.ts';
import { createHttpListener, type EdgeRuntime } from './edge/http-listener.ts';
import { trustedPeers, type TrustedPeers } from './edge/trusted-peers.ts';
import { RouteTable, type RouteEntry } from './routing/route-table.ts';
import { routingHandler } from './routing/router-layer.ts';
import { buildTarget, type StageInfo } from './routing/targets.ts';
import { UpstreamPool } from './balancer/upstream-pool.ts';
import { compressHandler } from './compress/compress.ts';
import { startAppServer, type AppServer } from './appserver/index.ts';
import type { Log } from './observability/logger.ts';
import { accessLogLine } from './observability/access-log.ts';
import { describeRoute } from './routing/describe.ts';

export interface StackOptions {
  log: Log;
  /** Where access log lines go; none when absent. */
  accessLog?: (line: string) => void;
  /** Extra layers in front of routing (outermost first), e.g. for benchmarks or embedding. */
  layers?: Layer[];
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
}

export class Stack implements EdgeRuntime {
  private snapshot: Snapshot;
  private readonly options: StackOptions;
  private readonly pools = new Map<string, UpstreamPool>();
  private readonly appPools = new Map<string, UpstreamPool>();
  private readonly apps = new Map<string, AppServer>();
  private readonly servers: { name: string; server: Server }[] = [];
  private stopping: Promise<void> | null = null;
  readonly startedAt = Date.now();

  constructor(config: ResolvedConfig, options: StackOptions) {
    this.options = options;
    this.snapshot = this.build(config);
    if (options.accessLog !== undefined) {
      const write = options.accessLog;
      this.onResponse = (req, res, ctx) => write(accessLogLine(req, res, ctx));
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

  onError(err: unknown, ctx: { id: string }): void {
    const e = err as { status?: number; code?: string };
    if (e.status !== undefined && e.status < 500) return;
    this.options.log('error', 'request failed', { requestId: ctx.id, code: e.code, err });
  }

  /** Starts the apps' workers first (a broken app fails the start before any port opens), then listeners. */
  async start(): Promise<void> {
    const config = this.snapshot.config;
    await this.syncApps(config, false);
    for (const l of config.listeners) {
      const server = createHttpListener(this);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: l.host, port: l.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.push({ name: l.name, server });
      const a = server.address() as AddressInfo;
      this.options.log('info', `listening on http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`, { listener: l.name });
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
      apps: Object.fromEntries([...this.apps].map(([name, app]) => [name, app.workers()])),
      pools: Object.fromEntries([...this.pools].map(([name, p]) => [name, p.list().map((s) => ({ address: s.address, weight: s.weight, inFlight: s.inFlight, requests: s.requests, failures: s.failures }))])),
      routes: this.snapshot.routes.map((r) => ({ name: r.name, target: r.target })),
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
    const closing = this.servers.map(({ server }) => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }));
    const deadline = setTimeout(() => {
      this.options.log('warn', `shutdown timeout (${timeout} ms): closing remaining connections`);
      for (const { server } of this.servers) server.closeAllConnections();
    }, timeout);
    // Keep-alive connections that finish a response afterwards must close too (nodejs/node#2642).
    const idle = setInterval(() => { for (const { server } of this.servers) server.closeIdleConnections(); }, 100);
    await Promise.all(closing);
    clearInterval(idle);
    clearTimeout(deadline);
    await Promise.all([...this.apps.values()].map((a) => a.stop(timeout)));
    await Promise.all([...this.pools.values(), ...this.appPools.values()].map((p) => p.close()));
  }

  private build(config: ResolvedConfig): Snapshot {
    const entries: RouteEntry<Handler>[] = [];
    const routes: RouteDescription[] = [];
    for (const route of config.routes) {
      const built = buildTarget(route, {
        pool: (name) => this.pool(name, config),
        appPool: (name) => this.appPool(name, config),
      });
      if (route.compress !== null) {
        // Outermost stage of the route, so whatever the target (or a cache) produced is encoded once.
        built.handler = compressHandler(built.handler, route.compress);
        built.stages.unshift({ name: 'compress', describe: `br/gzip by Accept-Encoding, ≥ ${route.compress.minSize} B` });
      }
      entries.push({ index: route.index, name: route.name, hosts: route.hosts, path: route.path, target: built.handler });
      routes.push({ index: route.index, name: route.name, hosts: route.hosts, path: route.path, target: describeRoute(route), stages: built.stages });
    }
    const handler = compose(this.options.layers ?? [], routingHandler(new RouteTable(entries)));
    return { config, handler, trusted: trustedPeers(config.trustedProxies), routes };
  }

  private pool(name: string, config: ResolvedConfig): UpstreamPool {
    const c = config.pools[name];
    const options = { connections: c.connections, connectTimeout: c.connectTimeout, timeout: c.timeout };
    let pool = this.pools.get(name);
    if (pool === undefined) this.pools.set(name, (pool = new UpstreamPool(name, c.servers, options)));
    else pool.setServers(c.servers);
    return pool;
  }

  private appPool(name: string, config: ResolvedConfig): UpstreamPool {
    let pool = this.appPools.get(name);
    if (pool === undefined) {
      const c = config.apps[name];
      pool = new UpstreamPool(`app:${name}`, [], { connections: c.concurrency, connectTimeout: 5_000, timeout: 60_000 });
      this.appPools.set(name, pool);
    }
    return pool;
  }

  private async syncApps(config: ResolvedConfig, reloading: boolean): Promise<void> {
    for (const [name, app] of this.apps) {
      if (config.apps[name] === undefined) {
        this.apps.delete(name);
        await app.stop(config.shutdownTimeout);
      }
    }
    for (const [name, c] of Object.entries(config.apps)) {
      const existing = this.apps.get(name);
      if (existing !== undefined) {
        if (reloading) await existing.reload();
        continue;
      }
      const app = await startAppServer({
        name,
        module: c.module,
        workers: c.workers,
        runtimeDir: config.runtimeDir,
        shutdownTimeout: config.shutdownTimeout,
        log: (level, msg, fields) => this.options.log(level, msg, { app: name, ...fields }),
      });
      this.apps.set(name, app);
      const pool = this.appPool(name, config);
      const sync = () => pool.setServers(app.sockets().map((s) => ({ url: `unix:${s}`, weight: 1 })));
      app.on('change', sync);
      sync();
    }
  }
}
