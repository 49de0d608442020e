// Every process of a multi-process data plane binds the same addresses with SO_REUSEPORT, so the
// kernel spreads new connections over them (nginx's `reuseport`). The primary binds first; a
// listener on port 0 gets its port there, and the replicas bind that port.
import type { ResolvedConfig } from '../config/resolved.ts';

export function withReusePort(config: ResolvedConfig, ports?: readonly number[]): ResolvedConfig {
  return {
    ...config,
    listeners: config.listeners.map((l, i) => ({ ...l, reusePort: true, port: ports?.[i] ?? l.port })),
  };
}
