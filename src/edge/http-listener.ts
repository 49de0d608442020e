// The HTTP/1.1 cleartext edge on node:http; each request goes through the shared mapping onto the
// layer contract (request-mapping.ts), which the HTTPS listener uses too.
import http from 'node:http';
import { newRequestId } from '../http/context.ts';
import { type EdgeRuntime, handleContinue, handleRequest } from './request-mapping.ts';
import type { HostPolicy } from './host-policy.ts';
import { DEFAULT_LIMITS, checkingInterval, limitConnections, type EdgeLimits } from './limits.ts';

export type { EdgeRuntime } from './request-mapping.ts';

export interface HttpListenerOptions {
  limits?: EdgeLimits;
  /** Redirects (to https, to the canonical host) answered before any layer. */
  policy?: HostPolicy | null;
}

export function createHttpListener(runtime: EdgeRuntime, options: HttpListenerOptions = {}): http.Server {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const server = http.createServer({
    // Slowloris guard: the whole head within headersTimeout, checked every connectionsCheckingInterval.
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    connectionsCheckingInterval: checkingInterval(limits),
    maxHeaderSize: limits.maxHeaderSize,
    // Strict framing: llhttp rejects obs-fold, bare LF, conflicting CL/TE (RFC 9112 §6.3).
    insecureHTTPParser: false,
    requireHostHeader: true,
    joinDuplicateHeaders: true,
  });
  limitConnections(server, limits);
  const rules = { policy: options.policy ?? null, limits };
  server.on('request', (req, res) => handleRequest(runtime, req, res, 'http', rules));
  // RFC 9110 §10.1.1: 100 Continue only once the body is wanted (a route may refuse it first);
  // any other expectation gets the stack's 417 (request-faults.ts) instead of node's bare one.
  server.on('checkContinue', (req, res) => handleContinue(runtime, req, res, 'http', rules));
  server.on('checkExpectation', (req, res) => handleRequest(runtime, req, res, 'http', rules));
  // Malformed heads never reach a layer: answer 400 and close, since framing is in doubt.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (err.code === 'ECONNRESET')) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    // A request id even here, so a client's report of a 400 can be matched with the edge's side.
    const id = newRequestId();
    const body = `${status} ${reason}: ${err.code ?? 'malformed request'} (request id ${id})\n`;
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nX-Request-Id: ${id}\r\nConnection: close\r\n\r\n${body}`);
  });
  return server;
}
