// The HTTP health check of an `https://` server: a TLS connection with the pool's settings (so a
// certificate the proxy would refuse fails the check), then the request in whatever protocol the
// server picked by ALPN. A pool with `http2` offers h2 like its proxied requests do, so a server
// that only speaks h2 (a gRPC backend, say) is checked in h2 instead of failing an HTTP/1.1 probe.
import http2 from 'node:http2';
import https from 'node:https';
import tls, { type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { Readable } from 'node:stream';
import type { ResolvedHealthCheck } from '../config/resolved.ts';

/** Judges a response: its status and, when the check wants a substring, its body. */
export type Judge = (status: number, body: Readable, abort: () => void) => void;

/**
 * Sends the check over TLS; `judge` gets the response, `fail` any error before it. Returns the
 * cleanup that cuts everything (used on the check's timeout).
 */
export function probeOverTls(target: { host: string; port: number }, check: ResolvedHealthCheck, options: TlsConnectionOptions, judge: Judge, fail: () => void): () => void {
  const h2 = options.ALPNProtocols !== undefined && [...(options.ALPNProtocols as string[])].includes('h2');
  const socket = tls.connect({ ...options, host: target.host, port: target.port, ALPNProtocols: h2 ? ['h2', 'http/1.1'] : ['http/1.1'] });
  let cleanup: () => void = () => socket.destroy();
  socket.once('error', fail);
  socket.once('secureConnect', () => {
    const headers = { 'user-agent': 'portico-health-check' };
    if (socket.alpnProtocol === 'h2') {
      const authority = `https://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
      const session = http2.connect(authority, { createConnection: () => socket });
      session.on('error', fail);
      cleanup = () => session.destroy();
      const stream = session.request({ ':method': check.method, ':path': check.path, ...headers });
      stream.once('error', fail);
      stream.once('response', (h) => judge(Number(h[':status'] ?? 0), stream, () => session.destroy()));
      // One check, one stream: the session ends with it.
      stream.once('close', () => session.close());
      stream.end();
      return;
    }
    const req = https.request({
      host: target.host, port: target.port, method: check.method, path: check.path, createConnection: () => socket,
      headers: { host: target.host, ...headers, connection: 'close' },
    });
    cleanup = () => req.destroy();
    req.once('error', fail);
    req.once('response', (res) => judge(res.statusCode ?? 0, res, () => req.destroy()));
    req.end();
  });
  return () => cleanup();
}
