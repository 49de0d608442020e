// The portico engine's listener (docs/io-model.md): HTTP/1.1 framing owned on `net` sockets
// instead of node:http. Opt-in per listener (`engine: 'portico'`).
// Deadlines for every connection are checked by one sweep timer, not a timer per socket.
// Upgrade requests leave as node:http's do: an 'upgrade' event (req, socket, head) on `server`.
import net from 'node:net';
import type { EdgeRuntime, EdgeRules } from '../request-mapping.ts';
import { checkingInterval, limitConnections } from '../limits.ts';
import type { ConnectionOwner } from './connection-owner.ts';
import { H1Connection } from './h1-connection.ts';
import { RequestHeadParser, headLimits } from './request-head.ts';

export interface H1Server {
  /**
   * Emits 'connection' (give it a socket to serve: the PROXY protocol acceptor does) and
   * 'upgrade'. Listens itself for a cleartext listener.
   */
  readonly server: net.Server;
  /**
   * Serves one socket accepted and counted elsewhere (a TLS socket that negotiated HTTP/1.1): no
   * per-address count here, the accepting server keeps it.
   */
  accept(socket: net.Socket): void;
  /**
   * The listener is closing (what `server.close()` does, for a server that never listens itself):
   * each response in flight is its connection's last.
   */
  drain(): void;
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

export interface H1ServerOptions {
  /** 'https' when the sockets given to accept() are TLS (request scheme, HSTS, no ACME answers). */
  scheme?: 'http' | 'https';
}

export function createH1Server(runtime: EdgeRuntime, rules: EdgeRules, options: H1ServerOptions = {}): H1Server {
  const connections = new Set<H1Connection>();
  // Upgraded sockets are no longer ours to parse, but the shutdown deadline still cuts them.
  const tunnels = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true });
  // node:http checks its head and request deadlines on this interval and idle keep-alive with a
  // timer per socket; one sweep does all three here, so it runs often enough for the shortest.
  const limits = rules.limits;
  const interval = Math.min(checkingInterval(limits), Math.max(50, Math.floor(limits.keepAliveTimeout / 4)));
  let closed = false;
  let dateSecond = -1;
  let dateValue = '';
  let timer: NodeJS.Timeout | null = null;
  const stopSweeping = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const owner: ConnectionOwner & { closing: boolean } = {
    runtime,
    rules,
    closing: false,
    scheme: options.scheme ?? 'http',
    parser: new RequestHeadParser(headLimits(limits)),
    // Past either bound a head is parsed (and refused) without waiting for its line to end.
    maxHead: Math.min(limits.maxHeaderSize, limits.maxUrlLength + 32),
    forget: (c) => {
      connections.delete(c);
      if (closed && connections.size === 0) stopSweeping();
    },
    date: () => {
      const now = Date.now();
      const second = Math.floor(now / 1000);
      if (second !== dateSecond) {
        dateSecond = second;
        dateValue = new Date(now).toUTCString();
      }
      return dateValue;
    },
    acceptsUpgrades: () => server.listenerCount('upgrade') > 0,
    upgrade: (req, socket, head) => {
      tunnels.add(socket);
      socket.once('close', () => tunnels.delete(socket));
      server.emit('upgrade', req, socket, head);
    },
  };
  const accept = (socket: net.Socket): void => {
    if (socket.destroyed) return; // closed by the per-address limit
    if (timer === null) {
      // Started by the first connection rather than by 'listening': behind the PROXY protocol or
      // TLS this server never listens itself. (A socket whose PROXY header completes after the
      // close still gets its deadlines; the last connection to go stops the sweep again.)
      timer = setInterval(() => {
        const now = performance.now();
        for (const c of connections) c.sweep(now);
      }, interval);
      timer.unref();
    }
    connections.add(new H1Connection(socket, owner));
  };
  limitConnections(server, rules.limits);
  server.on('connection', accept);
  const originalClose = server.close.bind(server);
  // Once closing, a response in flight is its connection's last (`Connection: close`); the sweep
  // goes on until the last connection has gone (slow bodies still meet their deadlines).
  const drain = (): void => {
    owner.closing = true;
    closed = true;
    if (connections.size === 0) stopSweeping();
  };
  server.close = (callback?: (err?: Error) => void) => {
    drain();
    originalClose(callback);
    return server;
  };
  return {
    server,
    accept,
    drain,
    closeIdleConnections: () => {
      for (const c of connections) if (c.idle) c.close();
    },
    closeAllConnections: () => {
      for (const c of connections) c.socket.destroy();
      for (const socket of tunnels) socket.destroy();
    },
  };
}
