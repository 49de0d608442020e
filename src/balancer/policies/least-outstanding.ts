// Least outstanding requests: the server with the fewest in-flight requests per unit of weight, so
// a slow server (whose requests pile up) gets fewer new ones. Ties are broken by smooth weighted
// round robin, so an idle pool still spreads by weight instead of always taking the first server.
import type { UpstreamServer } from '../server.ts';
import { usable, type PickRequest, type Policy } from './policy.ts';
import { smoothWeighted } from './smooth-weighted.ts';

export function leastOutstandingPolicy(): Policy {
  return {
    name: 'least-outstanding',
    pick(servers: readonly UpstreamServer[], req: PickRequest) {
      let min = Infinity;
      for (const s of servers) if (usable(s, req) && s.inFlight / s.effectiveWeight < min) min = s.inFlight / s.effectiveWeight;
      if (min === Infinity) return null;
      return smoothWeighted(servers, (s) => usable(s, req) && s.inFlight / s.effectiveWeight === min);
    },
  };
}
