// One configured listener, started: cleartext HTTP/1.1 or HTTPS (h2 + HTTP/1.1), behind one shape
// the stack can list, drain and close without knowing which kind it is.
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import type { ResolvedListener } from '../config/resolved.ts';
import { CertificateStore } from './certificate-store.ts';
import { issueDevCertificate } from './dev-ca.ts';
import { createHttpListener } from './http-listener.ts';
import { createH1Server } from './h1/h1-server.ts';
import { createHttpsListener } from './https-listener.ts';
import { hostPolicy } from './host-policy.ts';
import { proxyProtocolServer } from './proxy-protocol.ts';
import type { EdgeRuntime } from './request-mapping.ts';
import { prepareAcme, type AcmeSetup } from './acme/acme-listener.ts';
import type { AcmeManager } from './acme/manager.ts';

/** How long a balancer may take to send the PROXY header (HAProxy's own default is 5 s). */
const PROXY_HEADER_TIMEOUT = 5_000;

export interface EdgeListener {
  readonly name: string;
  readonly scheme: 'http' | 'https';
  /** The listening socket's server (address(), close()). */
  readonly server: Server;
  /**
   * The server that parses HTTP and emits 'request' / 'upgrade': the same as `server`, except behind
   * the PROXY protocol, where `server` is the TCP acceptor that reads the header first.
   */
  readonly httpServer: Server;
  closeIdleConnections(): void;
  closeAllConnections(): void;
  /** Stops accepting; resolves once every connection has ended. */
  close(): Promise<void>;
}

export interface ListenerEnvironment {
  runtimeDir: string;
  /** Host names the routes serve (exact and `*.` wildcards): what a `tls: 'dev'` certificate covers. */
  hosts: readonly string[];
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

/** Names a dev certificate covers: the routes' hosts, loopback, and the listener's own address. */
export function devHosts(hosts: readonly string[], listenHost: string): string[] {
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  for (const h of hosts) names.add(h.toLowerCase());
  if (listenHost !== '0.0.0.0' && listenHost !== '::') names.add(listenHost.toLowerCase());
  return [...names].filter((n) => isIP(n) !== 0 || /^(\*\.)?[a-z0-9.-]+$/.test(n));
}

/**
 * node:http lets go of a socket once it is upgraded: its closeAllConnections() never reaches a
 * WebSocket tunnel, so the shutdown deadline would wait out the tunnel's idle timeout. Kept here.
 */
function trackTunnels(server: Server): { destroyAll(): void } {
  const tunnels = new Set<Duplex>();
  server.prependListener('upgrade', (_req: unknown, socket: Duplex) => {
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
  });
  return { destroyAll: () => { for (const socket of tunnels) socket.destroy(); } };
}

export async function startListener(runtime: EdgeRuntime, l: ResolvedListener, env: ListenerEnvironment): Promise<EdgeListener> {
  let listener: Omit<EdgeListener, 'close' | 'httpServer'> & { drain?: () => void };
  let certificates: CertificateStore | null = null;
  let acme: AcmeSetup | null = null;
  let acmeManager: AcmeManager | null = null;
  const policy = hostPolicy(l);
  if (l.tls === null && l.engine === 'portico') {
    // Portico's own HTTP/1.1 framing (src/edge/h1); behind the PROXY protocol it is handed each
    // socket once the header is read, as node:http is.
    const h1 = createH1Server(runtime, { policy, limits: l.limits });
    listener = { name: l.name, scheme: 'http', ...h1 };
  } else if (l.tls === null) {
    const server = createHttpListener(runtime, { policy, limits: l.limits });
    const tunnels = trackTunnels(server);
    listener = { name: l.name, scheme: 'http', server, closeIdleConnections: () => server.closeIdleConnections(), closeAllConnections: () => {
      server.closeAllConnections();
      tunnels.destroyAll();
    } };
  } else {
    let files = l.tls.kind === 'files' ? l.tls.certs : null;
    if (l.tls.kind === 'acme') {
      acme = await prepareAcme(runtime, l.tls.acme, l.name, env);
      files = acme.files;
    }
    if (files === null) {
      // The listener name becomes a file name: keep it to safe characters.
      const issued = await issueDevCertificate(env.runtimeDir, devHosts(env.hosts, l.host), `${l.name.replace(/[^\w.-]/g, '_')}-dev`);
      if (issued.issued) env.log('info', `issued a development certificate ${issued.cert}`, { listener: l.name });
      files = [issued];
    }
    certificates = new CertificateStore(files);
    const store = certificates;
    store.on('reload', (err) => {
      if (err === null) env.log('info', 'TLS certificates reloaded', { listener: l.name });
      else env.log('error', `TLS certificates not reloaded, keeping the current ones: ${err.message}`, { listener: l.name });
    });
    store.watch();
    if (l.engine === 'portico') {
      // h2 stays on node:http2; connections that negotiate HTTP/1.1 (or no ALPN) get the portico engine.
      const h1 = createH1Server(runtime, { policy, limits: l.limits }, { scheme: 'https' });
      const https = createHttpsListener(runtime, store, { policy, limits: l.limits, h1: h1.accept });
      // Upgrades leave from the server the stack listens on for them, as node:http's do.
      h1.server.on('upgrade', (req: unknown, socket: Socket, head: Buffer) => {
        if (!https.server.emit('upgrade', req, socket, head)) socket.destroy();
      });
      listener = { name: l.name, scheme: 'https', server: https.server, drain: h1.drain, closeIdleConnections: () => {
        https.closeIdleConnections();
        h1.closeIdleConnections();
      }, closeAllConnections: () => {
        https.closeAllConnections();
        h1.closeAllConnections();
      } };
    } else {
      const https = createHttpsListener(runtime, store, { policy, limits: l.limits });
      const tunnels = trackTunnels(https.server);
      listener = { name: l.name, scheme: 'https', ...https, closeAllConnections: () => {
        https.closeAllConnections();
        tunnels.destroyAll();
      } };
    }
  }
  const inner = listener.server;
  // PROXY protocol: a plain TCP server accepts, reads the header, then hands the socket to the HTTP
  // server, which never listens itself. 'listening' starts node:http's per-connection timers
  // (headersTimeout, requestTimeout), which it otherwise only arms from listen().
  const server = l.proxyProtocol ? proxyProtocolServer(inner, () => runtime.trusted, PROXY_HEADER_TIMEOUT) : inner;
  // node:net closes accepted connections past this at once (on the socket that accepts).
  if (l.limits.maxConnections > 0) server.maxConnections = l.limits.maxConnections;
  if (server !== inner) {
    server.once('listening', () => inner.emit('listening'));
    server.once('close', () => inner.close());
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: l.host, port: l.port, reusePort: l.reusePort }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    certificates?.close();
    throw err;
  });
  // Ordering starts once the listener is up; HTTP-01 answers come from the cleartext listeners.
  if (acme !== null && certificates !== null) acmeManager = acme.start(certificates);
  return {
    ...listener,
    server,
    httpServer: inner,
    close: () => new Promise<void>((resolve) => {
      certificates?.close();
      void acmeManager?.stop();
      server.close(() => resolve());
      // An h1 engine that does not listen itself (behind TLS or the PROXY protocol) learns here that it is closing.
      listener.drain?.();
      listener.closeIdleConnections();
    }),
  };
}
