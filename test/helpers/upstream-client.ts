// The proxy's two interchangeable upstream clients (pool `client`): suites that forward requests
// run once per client, like they run once per edge engine, so both must behave alike.
import type { PorticoConfig } from '../../src/config/types.ts';

export const UPSTREAM_CLIENTS = ['portico', 'undici'] as const;
export type UpstreamClient = (typeof UPSTREAM_CLIENTS)[number];

/** The config with `client` set on every pool that does not choose one itself. */
export function withClient<T extends Partial<Pick<PorticoConfig, 'pools'>>>(client: UpstreamClient, config: T): T {
  if (config.pools === undefined) return config;
  const pools: NonNullable<PorticoConfig['pools']> = {};
  for (const [name, pool] of Object.entries(config.pools)) pools[name] = { client, ...pool };
  return { ...config, pools };
}
