// Consistent hashing on a request key (the client IP, a header or a cookie) over a ring of virtual
// nodes (Karger et al.): each server owns VNODES × weight points, a key goes to the first point at
// or after its hash. When a server leaves (or is unavailable) only the keys it owned move, to the
// next usable point clockwise; every other key keeps its server, so at most ~1/N of keys remap.
import type { UpstreamServer } from '../server.ts';
import { cookieValue } from './cookie-value.ts';
import { usable, type PickRequest, type Policy } from './policy.ts';

export type HashKey = { readonly from: 'ip' } | { readonly from: 'header' | 'cookie'; readonly name: string };

const VNODES = 160;

/** FNV-1a 32-bit, then murmur3's finaliser: FNV alone clusters similar strings like "host#1", "host#2". */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Ring {
  points: Uint32Array;
  owners: UpstreamServer[];
}

function buildRing(servers: readonly UpstreamServer[]): Ring {
  const nodes: { point: number; server: UpstreamServer }[] = [];
  for (const s of servers) {
    // Points derive from the url, not the list position: a server keeps its points when others come and go.
    for (let i = 0; i < VNODES * s.weight; i++) nodes.push({ point: hash32(`${s.url}#${i}`), server: s });
  }
  nodes.sort((a, b) => a.point - b.point);
  return { points: Uint32Array.from(nodes, (n) => n.point), owners: nodes.map((n) => n.server) };
}

export function consistentHashPolicy(key: HashKey): Policy {
  let ring: Ring | null = null;
  let builtFor: readonly UpstreamServer[] | null = null;
  let builtWeights = '';
  const keyOf = (req: PickRequest): string => {
    const v = key.from === 'header' ? req.headers[key.name] : key.from === 'cookie' ? cookieValue(req.headers['cookie'], key.name) : undefined;
    // A request without the key still needs a stable home: fall back to the client address.
    return v ?? req.clientAddress;
  };
  return {
    name: 'consistent-hash',
    pick(servers: readonly UpstreamServer[], req: PickRequest) {
      const weights = servers.map((s) => s.weight).join(',');
      if (ring === null || builtFor !== servers || builtWeights !== weights) {
        ring = buildRing(servers);
        builtFor = servers;
        builtWeights = weights;
      }
      const { points, owners } = ring;
      const n = points.length;
      if (n === 0) return null;
      const h = hash32(keyOf(req));
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (points[mid] < h) lo = mid + 1;
        else hi = mid;
      }
      for (let i = 0; i < n; i++) {
        const s = owners[(lo + i) % n];
        if (usable(s, req)) return s;
      }
      return null;
    },
  };
}
