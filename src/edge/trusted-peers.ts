// Which peers we believe about forwarded facts (client address, request id).
// node:net's BlockList does the CIDR matching in C++, built once per config snapshot.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parseForwarded } from './forwarded.ts';

export interface TrustedPeers {
  has(address: string): boolean;
}

/**
 * Accepts `10.0.0.0/8`, `::1/128` or a bare address. `has` runs for every request's peer, so the
 * common cases avoid node's IP regexes and BlockList (which builds a SocketAddress per call):
 * a bare trusted address is a Set lookup, and IPv4 is parsed by hand and compared with the
 * IPv4 subnets as integers. IPv6 (and any IPv4 a v4-mapped IPv6 entry could cover) still goes
 * to the BlockList, whose semantics are the reference (trusted-peers.test.ts compares both).
 */
export function trustedPeers(entries: readonly string[]): TrustedPeers {
  // No trusted proxies (the default): nobody's forwarded facts are believed, at no cost per request.
  if (entries.length === 0) return { has: () => false };
  const list = new BlockList();
  const exact = new Set<string>();
  const nets: { net: number; mask: number }[] = [];
  // An IPv6 entry overlapping ::ffff:0:0/96 matches IPv4 peers too (BlockList maps them): those peers take the slow path.
  let v4ViaList = false;
  let hasV6 = false;
  const mapped = new BlockList();
  mapped.addSubnet('::ffff:0:0', 96, 'ipv6');
  for (const entry of entries) {
    const [addr, bits] = entry.split('/');
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
    if (type === 'ipv6') {
      hasV6 = true;
      if (bits === undefined || Number(bits) === 128) exact.add(addr);
      if ((bits !== undefined && Number(bits) < 96) || mapped.check(addr, 'ipv6')) v4ViaList = true;
      continue;
    }
    const n = parseIPv4(addr);
    const b = bits === undefined ? 32 : Number(bits);
    if (n < 0 || !Number.isInteger(b) || b < 0 || b > 32) {
      v4ViaList = true; // not a form the fast path understands: let BlockList judge it, as before
      continue;
    }
    if (b === 32) exact.add(addr);
    const mask = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
    nets.push({ net: (n & mask) >>> 0, mask });
  }
  return {
    has(address: string): boolean {
      if (exact.has(address)) return true;
      // Node reports IPv4 peers on dual-stack sockets as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
      const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
      const n = parseIPv4(v4);
      if (n >= 0) {
        if (v4 !== address && exact.has(v4)) return true;
        for (let i = 0; i < nets.length; i++) if (((n & nets[i].mask) >>> 0) === nets[i].net) return true;
        return v4ViaList && list.check(v4, 'ipv4');
      }
      // Not IPv4: IPv6 or nothing. BlockList refuses what does not parse (false), as isIPv6 would have.
      return (hasV6 || v4ViaList || nets.length > 0) && address.includes(':') && isIPv6(address) && list.check(address, 'ipv6');
    },
  };
}

/** A dotted-quad IPv4 address as an unsigned integer, or -1; the forms node's isIPv4 accepts (no leading zeros). */
export function parseIPv4(s: string): number {
  const len = s.length;
  if (len < 7 || len > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + part;
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
