// Which peers we believe about forwarded facts (client address, request id).
// node:net's BlockList does the CIDR matching in C++, built once per config snapshot.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parseForwarded } from './forwarded.ts';

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

export interface ClientIdentity {
  /** The client's address as far as trusted hops tell. */
  readonly address: string;
  /** The scheme the client used, when a trusted hop said so (`http` or `https`); null otherwise. */
  readonly proto: 'http' | 'https' | null;
}

const proto = (value: string | undefined): 'http' | 'https' | null => {
  const v = value?.trim().toLowerCase();
  return v === 'http' || v === 'https' ? v : null;
};

/**
 * Who the client is, from forwarded facts believed only when the socket's peer is trusted.
 * RFC 7239 `Forwarded` wins over X-Forwarded-For when both are present (it is the standard, and a
 * proxy that writes it means it). Walking from the right, the first hop we do not trust is the
 * client; `proto` comes from the same hop's element (or the X-Forwarded-Proto entry at that position).
 */
export function resolveClient(peer: string, headers: Readonly<Record<string, string | undefined>>, trusted: TrustedPeers): ClientIdentity {
  if (!trusted.has(peer)) return { address: peer, proto: null };
  const forwarded = headers['forwarded'];
  if (forwarded !== undefined) {
    const elements = parseForwarded(forwarded);
    if (elements === null) return { address: peer, proto: null }; // malformed: believe only the socket
    let address = peer;
    for (let i = elements.length - 1; i >= 0; i--) {
      const node = elements[i].for;
      // `unknown` or obfuscated (RFC 7239 §6.2, §6.3): nothing to walk past; the last known hop stands.
      if (node === undefined || !(isIPv4(node) || isIPv6(node))) return { address, proto: null };
      if (!trusted.has(node) || i === 0) return { address: node, proto: proto(elements[i].proto) };
      address = node;
    }
    return { address, proto: null };
  }
  const xff = headers['x-forwarded-for'];
  if (xff === undefined) return { address: peer, proto: proto(lastEntry(headers['x-forwarded-proto'], 0)) };
  const hops = xff.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i].trim();
    if (!isIPv4(hop) && !isIPv6(hop)) return { address: peer, proto: null };
    if (!trusted.has(hop) || i === 0) return { address: hop, proto: proto(lastEntry(headers['x-forwarded-proto'], hops.length - 1 - i)) };
  }
  return { address: peer, proto: null };
}

/** The entry `fromRight` places from the right of a comma list, or its leftmost when shorter. */
function lastEntry(list: string | undefined, fromRight: number): string | undefined {
  if (list === undefined) return undefined;
  const entries = list.split(',');
  return entries[Math.max(0, entries.length - 1 - fromRight)];
}
