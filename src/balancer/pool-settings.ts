// A pool's settings as the stack hands them over (from the resolved config), with the defaults a
// pool built outside a config (tests, embedding) gets.
import type { ResolvedHealthCheck } from '../config/resolved.ts';
import type { PolicyConfig } from './policies/index.ts';
import type { DiscoveryConfig } from './dns-discovery.ts';
import type { PassiveConfig } from './outlier-detection.ts';

export interface PoolSettings {
  policy: PolicyConfig;
  queue: { maxLength: number; timeout: number };
  /** Further attempts on other servers after a failure that is safe to retry. */
  retries: number;
  /** Retries allowed as a fraction of requests. */
  retryBudget: number;
  /** Seconds, for `Retry-After` on 503. */
  retryAfter: number;
  /** Absolute path of an HTML page served with the all-down 503; null for the plain error. */
  maintenancePage: string | null;
  /** Active health checks; null = servers count as healthy. */
  healthCheck: ResolvedHealthCheck | null;
  /** Host names in server urls resolved to every address, re-resolved every ttl; null = connect by name. */
  discovery: DiscoveryConfig | null;
  /** Passive ejection on failures seen in traffic; null = off. */
  passive: PassiveConfig | null;
  /** ms over which a recovered or new server ramps up to its full weight; 0 = off. */
  slowStart: number;
}

export const DEFAULT_SETTINGS: PoolSettings = {
  policy: { name: 'weighted-round-robin' },
  queue: { maxLength: 1000, timeout: 120_000 },
  retries: 1,
  retryBudget: 0.2,
  retryAfter: 10,
  maintenancePage: null,
  healthCheck: null,
  discovery: null,
  passive: null,
  slowStart: 0,
};

export type PoolLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
