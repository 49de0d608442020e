// The portico engine's listener (docs/io-model.md): HTTP/1.1 framing owned on `net` sockets
// instead of node:http. Opt-in per listener (`engine: 'portico'`), cleartext only for now.
// Deadlines for every connection are checked by one sweep timer, not a timer per socket.
import net from 'node:net';
import type { EdgeRuntime, EdgeRules } from '../request-mapping.ts';
import { checkingInterval, limitConnections } from '../limits.ts';
import { type ConnectionOwner, H1Connection } from './h1-connection.ts';

export interface H1Server {
  readonly server: net.Server;
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

export function createH1Server(runtime: EdgeRuntime, rules: EdgeRules): H1Server {
  const connections = new Set<H1Connection>();
  const owner: ConnectionOwner & { closing: boolean } = {
    runtime,
    rules,
    closing: false,
    forget: (c) => connections.delete(c),
  };
  const server = net.createServer({ noDelay: true });
  limitConnections(server, rules.limits);
  server.on('connection', (socket) => {
    if (socket.destroyed) return; // closed by the per-address limit
    connections.add(new H1Connection(socket, owner));
  });
  let timer: NodeJS.Timeout | null = null;
  server.on('listening', () => {
    timer = setInterval(() => {
      const now = performance.now();
      for (const c of connections) c.sweep(now);
    }, checkingInterval(rules.limits));
    timer.unref();
  });
  server.on('close', () => {
    if (timer !== null) clearInterval(timer);
  });
  const originalClose = server.close.bind(server);
  // Once closing, a response in flight is its connection's last (`Connection: close`).
  server.close = (callback?: (err?: Error) => void) => {
    owner.closing = true;
    originalClose(callback);
    return server;
  };
  return {
    server,
    closeIdleConnections: () => {
      for (const c of connections) if (c.idle) c.close();
    },
    closeAllConnections: () => {
      for (const c of connections) c.socket.destroy();
    },
  };
}
