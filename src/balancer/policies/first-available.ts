// HAProxy's behaviour from the articles: a request goes first to a server that is doing nothing
// (no request in flight); only when every server is busy does it fall back to round robin over
// those that still have room. Weighted round robin in both steps.
import type { UpstreamServer } from '../server.ts';
import { usable, type PickRequest, type Policy } from './policy.ts';
import { smoothWeighted } from './smooth-weighted.ts';

export function firstAvailablePolicy(): Policy {
  return {
    name: 'first-available',
    pick(servers: readonly UpstreamServer[], req: PickRequest) {
      return smoothWeighted(servers, (s) => s.inFlight === 0 && usable(s, req))
        ?? smoothWeighted(servers, (s) => usable(s, req));
    },
  };
}
