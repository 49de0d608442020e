// Plain round robin: each server in turn, weights ignored, skipping servers that are not usable.
import type { UpstreamServer } from '../server.ts';
import { usable, type PickRequest, type Policy } from './policy.ts';

export function roundRobinPolicy(): Policy {
  let next = 0;
  return {
    name: 'round-robin',
    pick(servers: readonly UpstreamServer[], req: PickRequest) {
      const n = servers.length;
      for (let i = 0; i < n; i++) {
        const s = servers[(next + i) % n];
        if (usable(s, req)) {
          next = (next + i + 1) % n;
          return s;
        }
      }
      return null;
    },
  };
}
