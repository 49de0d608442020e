// The HTTPS edge: one node:http2 secure server that speaks h2 and HTTP/1.1, chosen per connection
// by ALPN (RFC 7301; RFC 9113 §3.2), with certificates picked by SNI from a CertificateStore.
// h2 streams are served on node:http2's own stream API (src/edge/h2: no compat request/response
// objects per stream); HTTP/1.1 goes to the portico engine (the `h1` hook) or, on the node engine,
// through node's HTTP/1.1 objects and the same mapping as the cleartext listener.
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import { type EdgeRequest, type EdgeResponse, type EdgeRuntime, handleContinue, handleRequest } from './request-mapping.ts';
import type { CertificateStore } from './certificate-store.ts';
import type { HostPolicy } from './host-policy.ts';
import { DEFAULT_LIMITS, checkingInterval, limitConnections, type EdgeLimits } from './limits.ts';
import { tlsAlpnHooks } from './acme/tls-alpn.ts';
import { serveStream } from './h2/stream-request.ts';

export interface HttpsListenerOptions {
  limits?: EdgeLimits;
  /** Canonical-host redirects and HSTS, answered and added at the edge. */
  policy?: HostPolicy | null;
  /**
   * Serves the connections that negotiate HTTP/1.1 (or no ALPN) instead of node:http: the portico
   * engine (src/edge/h1); h2 stays on node:http2.
   */
  h1?: (socket: TLSSocket) => void;
}

export interface HttpsListener {
  readonly server: http2.Http2SecureServer;
  /** Stops new streams on idle h2 sessions (GOAWAY) and closes idle HTTP/1.1 connections. */
  closeIdleConnections(): void;
  /** Destroys every connection, busy or not (the shutdown deadline). */
  closeAllConnections(): void;
}

export function createHttpsListener(runtime: EdgeRuntime, certificates: CertificateStore, options: HttpsListenerOptions = {}): HttpsListener {
  const limits = options.limits ?? DEFAULT_LIMITS;
  // TLS-ALPN-01 (RFC 8737) answers for the stack's pending ACME orders: both callbacks run on the
  // handshake's TLSSocket (`this`), which ties the protocol choice to the certificate choice.
  const alpn = runtime.acmeChallenges === undefined ? null : tlsAlpnHooks(runtime.acmeChallenges);
  const server = http2.createSecureServer({
    ...certificates.defaultCredentials,
    SNICallback(this: unknown, servername: string, callback: (err: Error | null, ctx?: SecureContext) => void) {
      callback(null, alpn?.contextFor(this, servername) ?? certificates.contextFor(servername));
    },
    // Replaces node:http2's ALPNProtocols ['h2', 'http/1.1'] with the same choice plus acme-tls/1.
    ...(alpn === null ? {} : { ALPNCallback(this: unknown, { servername, protocols }: { servername?: string; protocols: string[] }) { return alpn.select(this, servername, protocols); } }),
    allowHTTP1: true,
    // TLS 1.2 is the floor RFC 9113 §9.2 sets for h2 (and what every current client offers).
    minVersion: 'TLSv1.2',
    // SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2); nginx's default is 128.
    settings: { maxConcurrentStreams: limits.maxConcurrentStreams, enablePush: false, maxHeaderListSize: limits.maxHeaderSize },
    maxHeaderListPairs: limits.maxHeaderCount + 4, // + the four request pseudo-header fields
    // The same HTTP/1.1 guards as the cleartext listener (node applies them under allowHTTP1).
    maxHeaderSize: limits.maxHeaderSize,
    connectionsCheckingInterval: checkingInterval(limits),
  } as http2.SecureServerOptions);
  const h1 = server as unknown as { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number };
  h1.headersTimeout = limits.headersTimeout;
  h1.requestTimeout = limits.requestTimeout;
  h1.keepAliveTimeout = limits.keepAliveTimeout;
  limitConnections(server, limits);
  const serveH1 = options.h1;
  if (serveH1 !== undefined) {
    // node:http2 picks h2 or its HTTP/1.1 fallback (ALPN http/1.1 or none) in the
    // 'secureConnection' listener it installs (tls.Server's connection listener): wrapped, so the
    // HTTP/1.1 ones come here and every other one goes on as before. Listeners prepended later (the
    // PROXY protocol's peer address) still run first.
    const [fromHttp2] = server.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
    server.removeListener('secureConnection', fromHttp2);
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol === false || socket.alpnProtocol === 'http/1.1') serveH1(socket);
      else fromHttp2.call(server, socket);
    });
  }
  // The default context serves clients without SNI; the SNICallback reads the store on each handshake.
  const onReload = (err: Error | null): void => {
    if (err === null) server.setSecureContext(certificates.defaultCredentials);
  };
  certificates.on('reload', onReload);
  server.on('close', () => certificates.off('reload', onReload));

  const rules = { policy: options.policy ?? null, limits };
  if (serveH1 === undefined) {
    // The node engine: node's HTTP/1.1 fallback (allowHTTP1) emits these with node:http's objects.
    server.on('request', (req, res) => handleRequest(runtime, req as unknown as EdgeRequest, res as unknown as EdgeResponse, 'https', rules));
    // RFC 9110 §10.1.1, as on the cleartext listener: 100 only once the body is wanted.
    server.on('checkContinue', (req, res) => handleContinue(runtime, req as unknown as EdgeRequest, res as unknown as EdgeResponse, 'https', rules));
    server.on('checkExpectation', (req, res) => handleRequest(runtime, req as unknown as EdgeRequest, res as unknown as EdgeResponse, 'https', rules));
    // Adding 'request' made node put its compat handler on 'stream' (an Http2ServerRequest and
    // Http2ServerResponse per h2 stream): removed, h2 streams are served per session below.
    server.removeAllListeners('stream');
  }

  const sockets = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // The peer is the connection's (the PROXY header's client when enabled): read once per session.
    const socket = session.socket;
    const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    session.on('stream', (stream, headers, flags, rawHeaders) => serveStream(runtime, rules, peer, stream, headers, flags, rawHeaders as unknown as string[]));
  });
  // A failed handshake (wrong SNI, plain HTTP on the TLS port, a scanner) is the client's problem.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  const closeIdleH1 = (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections;
  return {
    server,
    closeIdleConnections(): void {
      // session.close(): GOAWAY, in-flight streams finish, then the session ends (RFC 9113 §6.8).
      for (const session of sessions) session.close();
      closeIdleH1?.call(server);
    },
    closeAllConnections(): void {
      for (const socket of sockets) socket.destroy();
    },
  };
}
