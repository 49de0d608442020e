// Which peers we believe about forwarded facts (client address, request id).
// node:net's BlockList does the CIDR matching in C++, built once per config snapshot.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export interface TrustedPeers {
  has(address: string): boolean;
}

/** Accepts `10.0.0.0/8`, `::1/128` or a bare address. */
export function trustedPeers(entries: readonly string[]): TrustedPeers {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/');
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return {
    has(address: string): boolean {
      // Node reports IPv4 peers on dual-stack sockets as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
      if (address.startsWith('::ffff:') && isIPv4(address.slice(7))) address = address.slice(7);
      const type = isIPv6(address) ? 'ipv6' : isIPv4(address) ? 'ipv4' : null;
      return type !== null && list.check(address, type);
    },
  };
}

/**
 * The client address: the peer itself unless it is trusted, then walk X-Forwarded-For from the
 * right and take the first hop we do not trust (the leftmost entries are client-controlled).
 */
export function resolveClientAddress(peer: string, xff: string | undefined, trusted: TrustedPeers): string {
  if (xff === undefined || !trusted.has(peer)) return peer;
  const hops = xff.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i].trim();
    if (!isIPv4(hop) && !isIPv6(hop)) return peer; // malformed chain: believe only the socket
    if (!trusted.has(hop) || i === 0) return hop;
  }
  return peer;
}
