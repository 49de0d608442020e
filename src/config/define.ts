import type { PorticoConfig } from './types.ts';

/** Types a `portico.config.ts` for the editor; returns the config unchanged (validation happens at load). */
export function defineConfig(config: PorticoConfig): PorticoConfig {
  return config;
}
