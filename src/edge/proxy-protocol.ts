// The PROXY protocol (HAProxy's spec, v1 text and v2 binary): an L4 balancer in front tells us the
// client's address in a header before the first byte of the real stream. It is read here, before
// the socket reaches the HTTP or TLS server, and only from trusted peers; anything else is closed.
// Behind TLS the header comes before the ClientHello (the balancer does not terminate TLS), so it is
// read on the raw socket here too, and the TLS server is handed the socket as if it had accepted it.
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { TrustedPeers } from './trusted-peers.ts';

export type ProxyHeader =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** source null: LOCAL (v2) or UNKNOWN (v1), e.g. the balancer's own health check: keep the peer. */
  | { readonly kind: 'ok'; readonly length: number; readonly source: { readonly address: string; readonly port: number } | null };

const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
/** v1's longest line, CRLF included (spec §2.1). */
const V1_MAX = 107;

function port(text: string): number | null {
  return /^(0|[1-9]\d{0,4})$/.test(text) && Number(text) <= 65535 ? Number(text) : null;
}

function parseV1(buf: Buffer): ProxyHeader {
  const end = buf.indexOf('\r\n');
  if (end === -1) return buf.length >= V1_MAX ? { kind: 'invalid', reason: 'v1 line too long' } : { kind: 'incomplete' };
  if (end + 2 > V1_MAX) return { kind: 'invalid', reason: 'v1 line too long' };
  const parts = buf.toString('latin1', 0, end).split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'ok', length: end + 2, source: null };
  if (parts.length !== 6) return { kind: 'invalid', reason: 'v1 expects 6 fields' };
  const [, family, src, dst, srcPort, dstPort] = parts;
  const version = family === 'TCP4' ? 4 : family === 'TCP6' ? 6 : 0;
  const sp = port(srcPort);
  if (version === 0 || net.isIP(src) !== version || net.isIP(dst) !== version || sp === null || port(dstPort) === null) {
    return { kind: 'invalid', reason: 'v1 malformed address' };
  }
  return { kind: 'ok', length: end + 2, source: { address: src, port: sp } };
}

function parseV2(buf: Buffer): ProxyHeader {
  if (buf.length < 16) return { kind: 'incomplete' };
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return { kind: 'invalid', reason: 'v2 unknown version' };
  const command = verCmd & 0x0f;
  const family = buf[13];
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return { kind: 'incomplete' };
  if (command === 0) return { kind: 'ok', length, source: null }; // LOCAL
  if (command !== 1) return { kind: 'invalid', reason: 'v2 unknown command' };
  if (family === 0x11 && length >= 16 + 12) { // TCP over IPv4: src, dst, sport, dport
    return { kind: 'ok', length, source: { address: `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}`, port: buf.readUInt16BE(24) } };
  }
  if (family === 0x21 && length >= 16 + 36) { // TCP over IPv6
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(16 + i * 2).toString(16));
    const address = new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
    return { kind: 'ok', length, source: { address, port: buf.readUInt16BE(48) } };
  }
  if (family === 0x00) return { kind: 'ok', length, source: null }; // UNSPEC
  return { kind: 'invalid', reason: 'v2 unsupported address family' };
}

/** Parses the header at the start of `buf` (v1 or v2, told apart by their first bytes). */
export function parseProxyHeader(buf: Buffer): ProxyHeader {
  const probe = Math.min(buf.length, V2_SIGNATURE.length);
  if (buf.subarray(0, probe).equals(V2_SIGNATURE.subarray(0, probe))) return probe < V2_SIGNATURE.length ? { kind: 'incomplete' } : parseV2(buf);
  const v1 = Math.min(buf.length, 6);
  if (buf.toString('latin1', 0, v1) === 'PROXY '.slice(0, v1)) return v1 < 6 ? { kind: 'incomplete' } : parseV1(buf);
  return { kind: 'invalid', reason: 'no PROXY protocol header' };
}

function setPeer(socket: Socket, address: string, port: number): void {
  Object.defineProperty(socket, 'remoteAddress', { value: address, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: port, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', { value: net.isIP(address) === 6 ? 'IPv6' : 'IPv4', configurable: true });
}

type Source = { readonly address: string; readonly port: number };

/** A connection's kernel peer: unique among the listener's open connections. */
const kernelPeer = (socket: Socket): string => `${socket.remoteAddress}|${socket.remotePort}`;

/**
 * The socket a TLS server's HTTP and h2 layers read is the TLSSocket wrapping ours, and it asks the
 * kernel for its peer (its handle is the same TCP handle), so the address set on the raw socket
 * would be lost. Each resolved source is kept by kernel peer until the raw socket closes, and set on
 * the TLSSocket when the handshake completes: a listener prepended to 'secureConnection' runs before
 * the one node:http2 installs, which opens the h2 session or hands the socket to HTTP/1.1.
 */
function carryPeerThroughTls(target: tls.Server): Map<string, Source> {
  const sources = new Map<string, Source>();
  target.prependListener('secureConnection', (secure: tls.TLSSocket) => {
    const source = sources.get(kernelPeer(secure));
    if (source !== undefined) setPeer(secure, source.address, source.port);
  });
  return sources;
}

/**
 * A TCP server that reads the PROXY header of each connection, then hands the socket (the bytes
 * after the header pushed back) to `target` as if `target` had accepted it. A TLS `target` reads
 * those bytes as the start of the handshake (node feeds a wrapped socket's buffered data to TLS).
 */
export function proxyProtocolServer(target: net.Server, trusted: () => TrustedPeers, headerTimeout: number): net.Server {
  const tlsSources = target instanceof tls.Server ? carryPeerThroughTls(target) : null;
  return net.createServer((socket) => {
    // Only a trusted balancer may speak for a client; anyone else would forge their address.
    if (!trusted().has(socket.remoteAddress ?? '')) {
      socket.destroy();
      return;
    }
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), headerTimeout);
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const header = parseProxyHeader(buffered);
      if (header.kind === 'incomplete') return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      if (header.kind === 'invalid') {
        socket.destroy(); // framing is in doubt: no answer, just the close
        return;
      }
      socket.pause();
      if (header.source !== null) {
        if (tlsSources !== null) {
          const key = kernelPeer(socket); // before setPeer replaces the address
          tlsSources.set(key, header.source);
          socket.once('close', () => tlsSources.delete(key));
        }
        setPeer(socket, header.source.address, header.source.port);
      }
      if (buffered.length > header.length) socket.unshift(buffered.subarray(header.length));
      target.emit('connection', socket);
      // A TLS server reads the pushed-back bytes itself (its first read drains the socket's buffer
      // into the handshake); resuming here would flow them out as 'data' no one listens to.
      if (tlsSources === null) socket.resume();
    };
    const onError = (): void => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('error', onError);
  });
}
