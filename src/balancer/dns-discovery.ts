// DNS discovery: a server whose url names a host (`http://web.internal:3000`) stands for every
// address that name resolves to, re-resolved every `ttl` (the articles' Docker example: one
// service name, three containers). Servers come and go as the answer changes; one that leaves
// finishes its in-flight requests before its connections close (UpstreamPool.setServers).
// A failed lookup keeps the last answer: a DNS hiccup must not empty a healthy pool.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { UpstreamServerConfig } from './server.ts';
import type { PoolLog } from './pool-settings.ts';
import type { SrvDiscoveryConfig } from './srv-discovery.ts';
import { RefreshLoop } from './refresh-loop.ts';

/** "No such name" and "no records of this type": answers (the service scaled to zero), not failures. */
export const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

export type DiscoveryConfig = DnsDiscoveryConfig | SrvDiscoveryConfig;

/** What the pool asks of either kind of discovery. */
export interface Discovery {
  readonly config: DiscoveryConfig;
  /** The concrete servers: the declared ones expanded (dns), or the SRV answer (dns-srv). */
  servers(declared: readonly UpstreamServerConfig[]): UpstreamServerConfig[];
  /** Looks up now and then every ttl; resolves when the first round was tried. */
  watch(urls: readonly string[]): Promise<void>;
  update(config: DiscoveryConfig): void;
  stop(): void;
  status(): Record<string, unknown>;
}

export interface DnsDiscoveryConfig {
  readonly type: 'dns';
  /** ms between lookups of each name. */
  readonly ttl: number;
  /** `ip:port` of the DNS server to ask; null = the system's resolvers. */
  readonly resolver: string | null;
}

/** The host of a `http(s)://host:port` url when it is a name rather than an address; else null. */
export function hostnameOf(url: string): { host: string; port: string; scheme: string } | null {
  if (url.startsWith('unix:')) return null;
  const u = new URL(url);
  const host = u.hostname;
  if (host.startsWith('[') || isIP(host) !== 0) return null;
  return { host, port: u.port, scheme: u.protocol };
}

export class DnsDiscovery implements Discovery {
  config: DnsDiscoveryConfig;
  private resolver: Resolver;
  private readonly onChange: () => void;
  private readonly log: PoolLog;
  /** Name → sorted addresses of the last good answer. */
  private readonly answers = new Map<string, string[]>();
  private names: string[] = [];
  private readonly loop = new RefreshLoop(() => this.refresh(), () => this.config.ttl);
  lookups = 0;
  failures = 0;

  constructor(config: DnsDiscoveryConfig, onChange: () => void, log: PoolLog) {
    this.config = config;
    this.resolver = makeResolver(config);
    this.onChange = onChange;
    this.log = log;
  }

  update(config: DiscoveryConfig): void {
    if (config.type !== 'dns') throw new Error('discovery type changed: replace the DnsDiscovery');
    if (config.resolver !== this.config.resolver) this.resolver = makeResolver(config);
    this.config = config;
  }

  servers(declared: readonly UpstreamServerConfig[]): UpstreamServerConfig[] {
    return declared.flatMap((c) => this.expand(c));
  }

  /** The concrete servers a declared server stands for: itself, or one per address of its name. */
  expand(c: UpstreamServerConfig): UpstreamServerConfig[] {
    const name = hostnameOf(c.url);
    if (name === null) return [c];
    const addresses = this.answers.get(name.host) ?? [];
    // An https server keeps its name for SNI and the certificate check while connecting by address.
    const tls = name.scheme === 'https:' ? { servername: name.host } : {};
    return addresses.map((ip) => ({ ...c, ...tls, url: `${name.scheme}//${ip.includes(':') ? `[${ip}]` : ip}:${name.port}` }));
  }

  /** Sets the names to watch and resolves them now; resolves when every name was tried once. */
  async watch(urls: readonly string[]): Promise<void> {
    this.names = [...new Set(urls.map(hostnameOf).filter((n) => n !== null).map((n) => n.host))];
    for (const known of [...this.answers.keys()]) if (!this.names.includes(known)) this.answers.delete(known);
    await this.refresh();
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  status(): Record<string, unknown> {
    return { ttl: this.config.ttl, names: Object.fromEntries(this.answers), lookups: this.lookups, failures: this.failures };
  }

  private async refresh(): Promise<void> {
    let changed = false;
    await Promise.all(this.names.map(async (name) => {
      this.lookups++;
      let addresses: string[];
      try {
        addresses = await addressesOf(this.resolver, name);
      } catch (err) {
        this.failures++;
        this.log('warn', `DNS lookup of ${name} failed; keeping the last answer`, { name, err: (err as Error).message });
        return;
      }
      const before = this.answers.get(name);
      if (before !== undefined && before.join() === addresses.join()) return;
      this.answers.set(name, addresses);
      changed = true;
      this.log('info', `DNS: ${name} → ${addresses.join(', ') || 'no address'}`, { name });
    }));
    if (changed && !this.loop.stopped) this.onChange();
  }
}

/** Every A and AAAA address of a name, sorted; [] for no such name; throws on timeouts and server failures. */
export async function addressesOf(resolver: Resolver, name: string): Promise<string[]> {
  const results = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  const addresses: string[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') addresses.push(...r.value);
    else if (!NO_RECORDS.has((r.reason as { code?: string }).code ?? '')) throw r.reason;
  }
  return addresses.sort();
}

export function makeResolver(config: { ttl: number; resolver: string | null }): Resolver {
  // A lookup that hangs must not stall the next round: bounded tries and timeout.
  const resolver = new Resolver({ timeout: Math.min(config.ttl, 2_000), tries: 2 });
  if (config.resolver !== null) resolver.setServers([config.resolver]);
  return resolver;
}
