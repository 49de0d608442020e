// Smooth weighted round robin, nginx's algorithm: each pick adds every candidate's weight to its
// `current`, takes the largest and subtracts the total from it. weight=3 vs 1 gives exactly 3 of
// every 4, interleaved (a a b a, not a a a b), so a heavy server never gets a burst.
import type { UpstreamServer } from '../server.ts';
import { usable, type PickRequest, type Policy } from './policy.ts';

/** SWRR among the servers `accept` admits; other policies use it to break ties. */
export function smoothWeighted(servers: readonly UpstreamServer[], accept: (s: UpstreamServer) => boolean): UpstreamServer | null {
  let best: UpstreamServer | null = null;
  let total = 0;
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i];
    if (!accept(s)) continue;
    const w = s.effectiveWeight;
    s.current += w;
    total += w;
    if (best === null || s.current > best.current) best = s;
  }
  if (best !== null) best.current -= total;
  return best;
}

export function smoothWeightedPolicy(): Policy {
  return {
    name: 'weighted-round-robin',
    pick: (servers, req: PickRequest) => smoothWeighted(servers, (s) => usable(s, req)),
  };
}
