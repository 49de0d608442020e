// The HTTP/1.1 edge on node:http: turns each parsed request into the layer contract's
// PorticoRequest + RequestContext, runs the current handler and writes the response.
// This file is the only place that touches node:http's request/response objects, so the I/O
// model can be swapped (docs/io-model.md) without reshaping any layer.
import http from 'node:http';
import { pipeline } from 'node:stream';
import type { Handler, PorticoRequest, PorticoResponse } from '../http/types.ts';
import { RequestContext, formatServerTiming, isAcceptableRequestId } from '../http/context.ts';
import { errorResponse } from '../http/error-response.ts';
import { type TrustedPeers, resolveClientAddress } from './trusted-peers.ts';

export interface EdgeRuntime {
  /** Read on every request so a reload swaps the chain without touching connections. */
  readonly handler: Handler;
  readonly trusted: TrustedPeers;
  /** Called once per finished request (access log, metrics). */
  onResponse?(req: PorticoRequest, res: PorticoResponse, ctx: RequestContext, bytes: number): void;
  onError?(err: unknown, ctx: RequestContext): void;
}

export interface HttpListenerOptions {
  /** Slowloris guard: the whole head must arrive within this (node:http headersTimeout). */
  headersTimeout?: number;
  /** Whole request deadline, body included; 0 disables (long uploads). */
  requestTimeout?: number;
  keepAliveTimeout?: number;
  maxHeaderSize?: number;
}

export function createHttpListener(runtime: EdgeRuntime, options: HttpListenerOptions = {}): http.Server {
  const server = http.createServer({
    headersTimeout: options.headersTimeout ?? 10_000,
    requestTimeout: options.requestTimeout ?? 300_000,
    keepAliveTimeout: options.keepAliveTimeout ?? 5_000,
    maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
    // Strict framing: llhttp rejects obs-fold, bare LF, conflicting CL/TE (RFC 9112 §6.3).
    insecureHTTPParser: false,
    requireHostHeader: true,
    joinDuplicateHeaders: true,
  });
  server.on('request', (req, res) => handle(runtime, req, res));
  // Malformed heads never reach a layer: answer 400 and close, since framing is in doubt.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (err.code === 'ECONNRESET')) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    const body = `${status} ${reason}: ${err.code ?? 'malformed request'}\n`;
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });
  return server;
}

function handle(runtime: EdgeRuntime, req: http.IncomingMessage, res: http.ServerResponse): void {
  const peer = req.socket.remoteAddress ?? '';
  const trusted = runtime.trusted;
  const sentId = req.headers['x-request-id'] as string | undefined;
  const hostHeader = req.headers.host ?? '';
  const peerTrusted = trusted.has(peer);
  const ctx = new RequestContext(
    peer,
    peerTrusted,
    peerTrusted ? resolveClientAddress(peer, req.headers['x-forwarded-for'] as string | undefined, trusted) : peer,
    req.socket.remotePort ?? 0,
    'http',
    hostOnly(hostHeader),
    peerTrusted && isAcceptableRequestId(sentId) ? sentId : undefined,
  );
  const edgeSlot = ctx.startTiming('edge');
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  const preq: PorticoRequest = {
    method: req.method ?? 'GET',
    target: url,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers: req.headers as Record<string, string>,
    body: hasBody ? req : null,
    httpVersion: req.httpVersion,
  };
  res.on('close', () => {
    if (!res.writableFinished) ctx.abort();
  });
  let result: PorticoResponse | Promise<PorticoResponse>;
  try {
    result = runtime.handler(preq, ctx);
  } catch (err) {
    result = fail(runtime, err, preq, ctx);
  }
  if (result instanceof Promise) {
    result.then(
      (r) => send(runtime, preq, res, r, ctx, edgeSlot),
      (err) => send(runtime, preq, res, fail(runtime, err, preq, ctx), ctx, edgeSlot),
    );
  } else {
    send(runtime, preq, res, result, ctx, edgeSlot);
  }
}

function fail(runtime: EdgeRuntime, err: unknown, req: PorticoRequest, ctx: RequestContext): PorticoResponse {
  runtime.onError?.(err, ctx);
  return errorResponse(err, req.headers, ctx);
}

function send(runtime: EdgeRuntime, req: PorticoRequest, res: http.ServerResponse, r: PorticoResponse, ctx: RequestContext, edgeSlot: number): void {
  ctx.endTiming(edgeSlot);
  if (res.destroyed) {
    discard(r.body);
    return;
  }
  const headers = r.headers;
  headers['x-request-id'] = ctx.id;
  headers['server-timing'] = formatServerTiming(ctx.timings);
  const body = r.body;
  // RFC 9110 §9.3.2 / §15.4.5 / §15.3.5: HEAD, 304 and 204 carry no content.
  const noContent = req.method === 'HEAD' || r.status === 304 || r.status === 204 || r.status < 200;
  try {
    res.writeHead(r.status, headers);
  } catch (err) {
    // An invalid header value from a layer or upstream: never send half a head.
    const e = errorResponse(err, req.headers, ctx);
    e.headers['x-request-id'] = ctx.id;
    res.writeHead(502, e.headers);
    res.end(e.body as string);
    runtime.onError?.(err, ctx);
    return;
  }
  if (body === null || noContent) {
    discard(body);
    res.end();
    finished(runtime, req, r, ctx, res);
  } else if (typeof body === 'string' || body instanceof Uint8Array) {
    res.end(body);
    finished(runtime, req, r, ctx, res);
  } else {
    pipeline(body, res, (err) => {
      if (err) runtime.onError?.(err, ctx);
      finished(runtime, req, r, ctx, res);
    });
  }
}

function finished(runtime: EdgeRuntime, req: PorticoRequest, r: PorticoResponse, ctx: RequestContext, res: http.ServerResponse): void {
  if (runtime.onResponse === undefined) return;
  runtime.onResponse(req, r, ctx, res.socket?.bytesWritten ?? 0);
}

function hostOnly(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1).toLowerCase();
  const colon = host.indexOf(':');
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

/**
 * Drops a body we will not send (HEAD, 304, client gone). Some streams (undici's) report an early
 * destroy as an error: it is expected here, so it must not become an uncaught exception.
 */
function discard(body: PorticoResponse['body']): void {
  if (body === null || typeof body !== 'object' || !('destroy' in body)) return;
  body.on('error', () => {});
  body.destroy();
}
