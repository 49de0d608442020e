// Power of two random choices (Mitzenmacher): draw two servers at random (by weight) and take the
// one with fewer in-flight requests per unit of weight. Nearly as good as least-outstanding,
// without a full scan's herd effect when many balancers share stale load figures.
import type { UpstreamServer } from '../server.ts';
import { usable, type PickRequest, type Policy } from './policy.ts';

export function powerOfTwoPolicy(random: () => number = Math.random): Policy {
  const draw = (candidates: UpstreamServer[], total: number, skip: UpstreamServer | null): UpstreamServer => {
    let r = random() * (skip === null ? total : total - skip.effectiveWeight);
    for (const s of candidates) {
      if (s === skip) continue;
      r -= s.effectiveWeight;
      if (r < 0) return s;
    }
    // Floating point can leave r a hair above 0 after the last candidate.
    return candidates.findLast((s) => s !== skip) as UpstreamServer;
  };
  return {
    name: 'power-of-two',
    pick(servers: readonly UpstreamServer[], req: PickRequest) {
      const candidates: UpstreamServer[] = [];
      let total = 0;
      for (const s of servers) {
        if (!usable(s, req)) continue;
        candidates.push(s);
        total += s.effectiveWeight;
      }
      if (candidates.length <= 1) return candidates[0] ?? null;
      const a = draw(candidates, total, null);
      const b = draw(candidates, total, a);
      return b.inFlight / b.effectiveWeight < a.inFlight / a.effectiveWeight ? b : a;
    },
  };
}
