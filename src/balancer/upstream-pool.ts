// A pool of upstream servers with one undici connection pool each.
//
// Config (address, weight) is split from runtime state (in-flight count, counters) as Caddy does
// with Upstream/Host, so a reload can swap the server list while state for servers that stay
// survives. Selection: smooth weighted round robin (nginx's algorithm: weight=3 gives exactly 3 of
// every 4), restricted to servers that are `available`. The balancer issue deepens this with
// health checks, queueing and more policies; every policy will ask the same predicate.
import { Pool } from 'undici';

export interface UpstreamServerConfig {
  /** `http://host:port` or `unix:/path.sock` */
  readonly url: string;
  readonly weight: number;
}

export interface PoolOptions {
  connections: number;
  connectTimeout: number;
  /** Response-head deadline (undici headersTimeout); body idle deadline reuses it. */
  timeout: number;
}

/** Runtime state of one server; survives reloads that keep the same url. */
export class UpstreamServer {
  readonly url: string;
  /** `host:port` or the socket path, for logs ($upstream_addr). */
  readonly address: string;
  readonly dispatcher: Pool;
  weight: number;
  inFlight = 0;
  requests = 0;
  failures = 0;
  /** Smooth weighted round robin state. */
  current = 0;

  constructor(config: UpstreamServerConfig, options: PoolOptions) {
    this.url = config.url;
    this.weight = config.weight;
    if (config.url.startsWith('unix:')) {
      const socketPath = config.url.slice(5);
      this.address = `unix:${socketPath}`;
      this.dispatcher = new Pool('http://localhost', {
        socketPath,
        connections: options.connections,
        connect: { timeout: options.connectTimeout },
        headersTimeout: options.timeout,
        bodyTimeout: options.timeout,
      });
    } else {
      const u = new URL(config.url);
      this.address = u.host;
      this.dispatcher = new Pool(u.origin, {
        connections: options.connections,
        connect: { timeout: options.connectTimeout },
        headersTimeout: options.timeout,
        bodyTimeout: options.timeout,
      });
    }
  }

  get available(): boolean {
    return true; // health and limits arrive with the balancer issue; the predicate is the seam.
  }
}

export class UpstreamPool {
  readonly name: string;
  private servers: UpstreamServer[] = [];
  private readonly options: PoolOptions;

  constructor(name: string, servers: readonly UpstreamServerConfig[], options: PoolOptions) {
    this.name = name;
    this.options = options;
    this.setServers(servers);
  }

  list(): readonly UpstreamServer[] {
    return this.servers;
  }

  /** Replaces the server list, keeping state (and open connections) for servers that stay. */
  setServers(configs: readonly UpstreamServerConfig[]): void {
    const old = new Map(this.servers.map((s) => [s.url, s]));
    const next: UpstreamServer[] = [];
    for (const c of configs) {
      const kept = old.get(c.url);
      if (kept !== undefined) {
        kept.weight = c.weight;
        old.delete(c.url);
        next.push(kept);
      } else {
        next.push(new UpstreamServer(c, this.options));
      }
    }
    this.servers = next;
    // Servers that left finish what they carry, then their sockets close.
    for (const gone of old.values()) void gone.dispatcher.close().catch(() => {});
  }

  /** Smooth weighted round robin over available servers; null when none is available. */
  pick(): UpstreamServer | null {
    const list = this.servers;
    let best: UpstreamServer | null = null;
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (!s.available) continue;
      s.current += s.weight;
      total += s.weight;
      if (best === null || s.current > best.current) best = s;
    }
    if (best !== null) best.current -= total;
    return best;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.dispatcher.close().catch(() => {})));
  }
}
