// WebSockets (RFC 6455) and other HTTP/1.1 upgrades through the proxy: the handshake is routed
// like any request, the balancer picks the server (health, limits and draining included), the
// request head is re-serialised from the parsed fields (nothing the client sent passes as raw
// bytes), and after the upstream's 101 both sockets are piped with backpressure and an idle timeout.
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PorticoRequest } from '../http/types.ts';
import { RequestContext, isAcceptableRequestId } from '../http/context.ts';
import { toHttpError, reasonPhrase } from '../http/error-response.ts';
import type { UpstreamPool, UpstreamServer } from '../balancer/upstream-pool.ts';
import type { TrustedPeers } from '../edge/trusted-peers.ts';
import { resolveClient } from '../edge/trusted-peers.ts';
import { upstreamRequestHeaders } from './request-headers.ts';
import { tlsFailureReason } from '../balancer/upstream-tls.ts';

export interface UpgradeTarget {
  pool: UpstreamPool;
  /** The prefix to remove from the path, or null. */
  strip: string | null;
  idleTimeout: number;
  connectTimeout: number;
}

export interface UpgradeStats {
  active: number;
  total: number;
  failed: number;
}

export interface UpgradeDeps {
  trusted: TrustedPeers;
  /** The route's upgrade target; null when no route matches or the route does not proxy upgrades. */
  route(req: PorticoRequest, ctx: RequestContext): UpgradeTarget | null;
  stats: UpgradeStats;
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

const MAX_RESPONSE_HEAD = 16 * 1024;

/** What the tunnel reads of the request: node:http's IncomingMessage, or the portico engine's head (src/edge/h1). */
export type UpgradeRequest = Pick<IncomingMessage, 'method' | 'url' | 'headers' | 'httpVersion' | 'socket'>;

export function handleUpgrade(deps: UpgradeDeps, req: UpgradeRequest, client: Duplex, head: Buffer): void {
  client.on('error', () => client.destroy());
  const peer = req.socket.remoteAddress ?? '';
  const trusted = deps.trusted.has(peer);
  const sentId = req.headers['x-request-id'] as string | undefined;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  // The same client facts as ordinary requests (src/edge/request-mapping.ts): Forwarded or
  // X-Forwarded-For from trusted hops only, and the scheme of the connection it arrived on.
  const identity = resolveClient(peer, req.headers as Record<string, string | undefined>, deps.trusted);
  const scheme = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
  const ctx = new RequestContext(peer, trusted, identity.address, req.socket.remotePort ?? 0, scheme, host, trusted && isAcceptableRequestId(sentId) ? sentId : undefined);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const preq: PorticoRequest = {
    method: req.method ?? 'GET', target: url, path: q === -1 ? url : url.slice(0, q), query: q === -1 ? '' : url.slice(q + 1),
    headers: req.headers as Record<string, string>, body: null, httpVersion: req.httpVersion,
  };
  const protocol = (req.headers.upgrade ?? '').toLowerCase();
  // RFC 6455 §4.1: the opening handshake is a GET; h2c upgrades are the edge's business, not a backend's.
  if (preq.method !== 'GET' || protocol === '' || protocol.startsWith('h2c')) return refuse(client, 400, 'BAD_UPGRADE', 'only GET upgrades to WebSocket are proxied', ctx);
  const target = deps.route(preq, ctx);
  if (target === null) return refuse(client, 404, 'NO_UPGRADE_ROUTE', `no route proxies upgrades for ${host}${preq.path}`, ctx);
  const pickReq = { clientAddress: ctx.clientAddress, headers: preq.headers, exclude: null };
  let acquired: UpstreamServer | Promise<UpstreamServer>;
  try {
    acquired = target.pool.acquire(pickReq);
  } catch (err) {
    return fail(deps, client, err, ctx);
  }
  Promise.resolve(acquired).then(
    (server) => connect(deps, target, server, preq, ctx, client, head),
    (err) => fail(deps, client, err, ctx),
  );
}

function connect(deps: UpgradeDeps, target: UpgradeTarget, server: UpstreamServer, req: PorticoRequest, ctx: RequestContext, client: Duplex, head: Buffer): void {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    target.pool.release(server);
  };
  ctx.upstreamAddress = server.address;
  const upstream = openUpstream(server);
  upstream.setNoDelay(true);
  const connectTimer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), target.connectTimeout);
  let upgraded = false;
  upstream.once('error', (err) => {
    clearTimeout(connectTimer);
    release();
    if (!upgraded) {
      deps.stats.failed++;
      const refused = (err as { code?: string }).code;
      const tlsReason = tlsFailureReason(err);
      if (tlsReason !== null) {
        deps.log('warn', `TLS handshake with upstream ${server.address} failed: ${tlsReason}`, { server: server.address, requestId: ctx.id });
        return refuse(client, 502, 'UPSTREAM_TLS', `TLS handshake with upstream ${server.address} failed: ${tlsReason}`, ctx);
      }
      const status = refused === 'UND_ERR_CONNECT_TIMEOUT' ? 504 : 502;
      refuse(client, status, status === 504 ? 'UPSTREAM_CONNECT_TIMEOUT' : 'UPSTREAM_CONNECTION_REFUSED', `upstream ${server.address} failed: ${refused ?? (err as Error).message}`, ctx);
    } else {
      client.destroy();
    }
  });
  client.once('close', () => upstream.destroy());
  // A TLS socket is ready for the request head after its handshake (and certificate check), not at TCP connect.
  upstream.once(server.tls === null ? 'connect' : 'secureConnect', () => {
    clearTimeout(connectTimer);
    let path = req.target;
    if (target.strip !== null && path.startsWith(target.strip)) path = path.slice(target.strip.length) || '/';
    if (path[0] !== '/') path = '/' + path;
    const headers = upstreamRequestHeaders(req.headers, ctx);
    // The two hop-by-hop fields this hop must send (RFC 9110 §7.8, RFC 6455 §4.1).
    headers['connection'] = 'Upgrade';
    headers['upgrade'] = req.headers['upgrade'];
    let out = `GET ${path} HTTP/1.1\r\n`;
    for (const name in headers) out += `${name}: ${headers[name]}\r\n`;
    upstream.write(out + '\r\n');
    if (head.length > 0) upstream.write(head);
  });
  readResponseHead(upstream, (err, status, headBytes, rest) => {
    if (err !== null) {
      deps.stats.failed++;
      upstream.destroy();
      release();
      return refuse(client, 502, 'UPSTREAM_BAD_RESPONSE', err, ctx);
    }
    // Our request id joins the upstream's head, so the client can quote it.
    const withId = headBytes.replace(/\r\n\r\n$/, `\r\nX-Request-Id: ${ctx.id}\r\n\r\n`);
    client.write(withId);
    if (rest.length > 0) client.write(rest);
    if (status !== 101) {
      // A refused handshake (401, 403, 426…) is passed on as it is, then the exchange ends.
      upstream.pipe(client);
      upstream.once('close', release);
      return;
    }
    upgraded = true;
    deps.stats.active++;
    deps.stats.total++;
    const idle = () => {
      client.destroy();
      upstream.destroy();
    };
    (client as net.Socket).setTimeout(target.idleTimeout, idle);
    upstream.setTimeout(target.idleTimeout, idle);
    upstream.pipe(client);
    client.pipe(upstream);
    let closed = false;
    const done = () => {
      if (closed) return;
      closed = true;
      deps.stats.active--;
      release();
      client.destroy();
      upstream.destroy();
    };
    client.once('close', done);
    upstream.once('close', done);
  });
}

/** A socket to the server: unix, TCP, or TLS with the pool's settings for `https://` servers (wss upstream). */
function openUpstream(server: UpstreamServer): net.Socket {
  if (server.url.startsWith('unix:')) return net.connect({ path: server.url.slice(5) });
  const u = new URL(server.url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(u.port);
  // The upgrade is an HTTP/1.1 exchange (RFC 6455 §4.1): offer only http/1.1 by ALPN.
  return server.tls === null ? net.connect({ host, port }) : tls.connect({ ...server.tls, host, port, ALPNProtocols: ['http/1.1'] });
}

/** Collects the upstream's response head (status line + fields) before anything reaches the client. */
function readResponseHead(upstream: net.Socket, done: (err: string | null, status: number, head: string, rest: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end === -1) {
      if (buf.length > MAX_RESPONSE_HEAD) finish('upstream response head too large');
      return;
    }
    const head = buf.subarray(0, end + 4).toString('latin1');
    const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(head);
    if (m === null || /[^\r]\n/.test(head)) return finish('malformed upstream response head');
    finish(null, Number(m[1]), head, buf.subarray(end + 4));
  };
  const onEnd = () => finish('upstream closed before answering the upgrade');
  const finish = (err: string | null, status = 0, head = '', rest: Buffer = Buffer.alloc(0)) => {
    upstream.off('data', onData);
    upstream.off('end', onEnd);
    done(err, status, head, rest);
  };
  upstream.on('data', onData);
  upstream.once('end', onEnd);
}

function fail(deps: UpgradeDeps, client: Duplex, err: unknown, ctx: RequestContext): void {
  deps.stats.failed++;
  const e = toHttpError(err);
  refuse(client, e.status, e.code, e.expose ? e.message : reasonPhrase(e.status), ctx, e.headers);
}

function refuse(client: Duplex, status: number, code: string, message: string, ctx: RequestContext, extra?: Record<string, string>): void {
  if (client.destroyed) return;
  const body = `${status} ${reasonPhrase(status)}: ${message}\ncode: ${code}\nrequest id: ${ctx.id}\n`;
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nX-Request-Id: ${ctx.id}\r\nX-Portico-Error: ${code}\r\n`;
  for (const [k, v] of Object.entries(extra ?? {})) head += `${k}: ${v}\r\n`;
  client.end(head + '\r\n' + body);
}
