// Passive health (outlier detection): `failures` consecutive connect failures or 5xx answers from
// a server eject it, for a period that doubles with each ejection in a row (capped). HAProxy's
// rule: traffic can show a fault, only checks show recovery — with active checks configured the
// server stays out until they pass `rise` times; without them, the period's end lets it back.
import type { UpstreamServer } from './server.ts';

export interface PassiveConfig {
  readonly failures: number;
  /** ms of the first ejection; each ejection in a row doubles it. */
  readonly ejectFor: number;
  /** ms cap of the growing period. */
  readonly maxEjectFor: number;
}

export interface OutlierHost {
  readonly name: string;
  /** Whether active checks decide recovery. */
  hasActiveChecks(): boolean;
  /** The server is back: slow start, queue. */
  restored(s: UpstreamServer): void;
  wake(): void;
  log(level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>): void;
}

export class OutlierDetector {
  config: PassiveConfig;
  private readonly host: OutlierHost;
  private readonly timers = new Map<UpstreamServer, NodeJS.Timeout>();

  constructor(config: PassiveConfig, host: OutlierHost) {
    this.config = config;
    this.host = host;
  }

  success(s: UpstreamServer): void {
    s.consecutiveFailures = 0;
    // A server that has served well for longer than its last period starts its count afresh.
    if (s.ejections > 0 && s.healthy && Date.now() - s.restoredAt > this.period(s)) s.ejections = 0;
  }

  failure(s: UpstreamServer): void {
    s.consecutiveFailures++;
    if (s.consecutiveFailures < this.config.failures || !s.healthy) return;
    s.ejections++;
    s.consecutiveFailures = 0;
    s.healthy = false;
    s.checkSuccesses = 0;
    const period = this.period(s);
    s.ejectedFor = period;
    const until = this.host.hasActiveChecks() ? 'until health checks pass' : `for ${period} ms`;
    this.host.log('warn', `pool "${this.host.name}": server ${s.address} ejected ${until} after ${this.config.failures} failures in a row`, { pool: this.host.name, server: s.address, ejections: s.ejections });
    this.host.wake();
    if (this.host.hasActiveChecks()) return;
    const timer = setTimeout(() => {
      this.timers.delete(s);
      s.healthy = true;
      this.host.log('info', `pool "${this.host.name}": server ${s.address} back after its ejection`, { pool: this.host.name, server: s.address });
      this.host.restored(s);
    }, period);
    timer.unref();
    this.timers.set(s, timer);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private period(s: UpstreamServer): number {
    return Math.min(this.config.ejectFor * 2 ** Math.max(0, s.ejections - 1), this.config.maxEjectFor);
  }
}
