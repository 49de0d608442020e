// SRV discovery (RFC 2782): the pool's servers are the answer for one SRV name, re-resolved every
// `ttl`. Each record's target is resolved to its addresses (A and AAAA) and paired with the
// record's port; the record's weight becomes the server's weight; priority orders the tiers:
// the lowest priority present is the primaries, every other priority a backup (our pools have
// two tiers, so priorities beyond the second one share the backup tier).
// As with A/AAAA discovery, servers that leave the answer finish their in-flight requests, and a
// failed lookup keeps the last answer.
import { isIP } from 'node:net';
import type { Resolver } from 'node:dns/promises';
import type { SrvRecord } from 'node:dns';
import type { UpstreamServerConfig } from './server.ts';
import type { PoolLog } from './pool-settings.ts';
import { NO_RECORDS, addressesOf, makeResolver, type Discovery, type DiscoveryConfig } from './dns-discovery.ts';
import { RefreshLoop } from './refresh-loop.ts';

export interface SrvDiscoveryConfig {
  readonly type: 'dns-srv';
  /** `_service._proto.name`, lowercase, no trailing dot. */
  readonly name: string;
  /** ms between lookups. */
  readonly ttl: number;
  /** `ip:port` of the DNS server to ask; null = the system's resolvers. */
  readonly resolver: string | null;
}

export class SrvDiscovery implements Discovery {
  config: SrvDiscoveryConfig;
  private resolver: Resolver;
  private readonly onChange: () => void;
  private readonly log: PoolLog;
  private answer: UpstreamServerConfig[] = [];
  private records: SrvRecord[] = [];
  private readonly loop = new RefreshLoop(() => this.refresh(), () => this.config.ttl);
  lookups = 0;
  failures = 0;

  constructor(config: SrvDiscoveryConfig, onChange: () => void, log: PoolLog) {
    this.config = config;
    this.resolver = makeResolver(config);
    this.onChange = onChange;
    this.log = log;
  }

  /** The SRV answer; a pool with SRV discovery declares no servers of its own. */
  servers(): UpstreamServerConfig[] {
    return this.answer;
  }

  update(config: DiscoveryConfig): void {
    // A new name is a new service: the pool builds a new SrvDiscovery for it.
    if (config.type !== 'dns-srv' || config.name !== this.config.name) throw new Error('SRV name changed: replace the SrvDiscovery');
    if (config.resolver !== this.config.resolver) this.resolver = makeResolver(config);
    this.config = config;
  }

  async watch(): Promise<void> {
    await this.refresh();
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  status(): Record<string, unknown> {
    return { type: 'dns-srv', name: this.config.name, ttl: this.config.ttl, records: this.records, lookups: this.lookups, failures: this.failures };
  }

  private async refresh(): Promise<void> {
    const name = this.config.name;
    this.lookups++;
    let records: SrvRecord[];
    let servers: UpstreamServerConfig[];
    try {
      records = await this.lookup(name);
      servers = await this.toServers(records);
    } catch (err) {
      this.failures++;
      this.log('warn', `SRV lookup of ${name} failed; keeping the last answer`, { name, err: (err as Error).message });
      return;
    }
    this.records = records;
    const key = (list: UpstreamServerConfig[]) => JSON.stringify(list.map((s) => [s.url, s.weight, s.backup]));
    if (key(servers) === key(this.answer) || this.loop.stopped) return;
    this.answer = servers;
    const shown = servers.map((s) => `${s.url.slice(7)} w${s.weight}${s.backup === true ? ' backup' : ''}`).join(', ');
    this.log('info', `SRV: ${name} → ${shown || 'no server'}`, { name });
    this.onChange();
  }

  private async lookup(name: string): Promise<SrvRecord[]> {
    try {
      // RFC 2782: a target of "." means "decidedly not available at this domain"; port 0 serves nothing.
      return (await this.resolver.resolveSrv(name)).filter((r) => r.name !== '' && r.name !== '.' && r.port !== 0);
    } catch (err) {
      if (NO_RECORDS.has((err as { code?: string }).code ?? '')) return [];
      throw err;
    }
  }

  /** One server per (address of the target, port); the lowest priority present is the primaries. */
  private async toServers(records: SrvRecord[]): Promise<UpstreamServerConfig[]> {
    const targets = [...new Set(records.map((r) => r.name.toLowerCase()))];
    const addresses = new Map<string, string[]>();
    await Promise.all(targets.map(async (t) => {
      addresses.set(t, isIP(t) !== 0 ? [t] : await addressesOf(this.resolver, t));
    }));
    const usable = records.filter((r) => (addresses.get(r.name.toLowerCase()) ?? []).length > 0);
    const primary = Math.min(...usable.map((r) => r.priority));
    const byUrl = new Map<string, UpstreamServerConfig>();
    for (const r of [...usable].sort((a, b) => a.priority - b.priority)) {
      for (const ip of addresses.get(r.name.toLowerCase()) ?? []) {
        const url = `http://${ip.includes(':') ? `[${ip}]` : ip}:${r.port}`;
        // Two records for one address and port: the more preferred (lower priority) one wins.
        if (byUrl.has(url)) continue;
        // Weight 0 means "rarely" (RFC 2782); our weights are positive, so it gets the smallest share.
        byUrl.set(url, { url, weight: Math.max(r.weight, 1), backup: r.priority !== primary });
      }
    }
    return [...byUrl.values()].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  }
}
