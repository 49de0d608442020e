// The per-request mapping from node:http's HTTP/1.1 objects onto the layer contract (PorticoRequest
// + RequestContext), and back from a PorticoResponse: the `engine: 'node'` listeners, cleartext and
// HTTP/1.1 over TLS. (h2 is served on node:http2's stream API in src/edge/h2, the portico engine's
// HTTP/1.1 in src/edge/h1; both build the contract exactly as here.)
import type { Socket } from 'node:net';
import type http from 'node:http';
import type { Readable, Writable } from 'node:stream';
import type { Handler, PorticoRequest, PorticoResponse } from '../http/types.ts';
import { RequestContext, formatServerTiming, isAcceptableRequestId } from '../http/context.ts';
import { errorResponse } from '../http/error-response.ts';
import { type TrustedPeers, resolveClient } from './trusted-peers.ts';
import type { HostPolicy } from './host-policy.ts';
import type { AcmeChallenges } from './acme/challenges.ts';
import { DEFAULT_LIMITS, checkHead, type EdgeLimits } from './limits.ts';
import { markRefused, requestFault, wasRefused } from './request-faults.ts';
import { forwardableTrailers } from '../http/trailers.ts';

export interface EdgeRuntime {
  /** Read on every request so a reload swaps the chain without touching connections. */
  readonly handler: Handler;
  readonly trusted: TrustedPeers;
  /** Called once per finished request (access log, metrics). */
  onResponse?(req: PorticoRequest, res: PorticoResponse, ctx: RequestContext): void;
  onError?(err: unknown, ctx: RequestContext): void;
  /** Pending ACME HTTP-01 answers, served on cleartext listeners before host policy and routing. */
  readonly acmeChallenges?: AcmeChallenges;
}

export type EdgeRequest = http.IncomingMessage;
export type EdgeResponse = http.ServerResponse;

/** What a listener decides before any layer: its limits and its host policy. Built once per listener. */
export interface EdgeRules {
  readonly policy: HostPolicy | null;
  readonly limits: EdgeLimits;
}

const NO_RULES: EdgeRules = { policy: null, limits: DEFAULT_LIMITS };

export function handleRequest(runtime: EdgeRuntime, req: EdgeRequest, res: EdgeResponse, scheme: 'http' | 'https', rules: EdgeRules = NO_RULES): void {
  // A request pipelined behind one refused for its framing: the connection is closing, run nothing.
  if (wasRefused(req.socket)) return;
  const headers = req.headers as Record<string, string>;
  const peer = req.socket.remoteAddress ?? '';
  const trusted = runtime.trusted;
  const sentId = headers['x-request-id'];
  const hostHeader = headers.host ?? '';
  const peerTrusted = trusted.has(peer);
  const client = resolveClient(peer, headers, trusted);
  const ctx = new RequestContext(
    peer,
    peerTrusted,
    client.address,
    req.socket.remotePort ?? 0,
    scheme,
    hostOnly(hostHeader),
    peerTrusted && isAcceptableRequestId(sentId) ? sentId : undefined,
  );
  const edgeSlot = ctx.startTiming('edge');
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const hasBody = headers['content-length'] !== undefined ? headers['content-length'] !== '0' : headers['transfer-encoding'] !== undefined;
  const preq: PorticoRequest = {
    method: req.method ?? 'GET',
    target: url,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
    body: hasBody ? req : null,
    httpVersion: req.httpVersion,
  };
  res.on('close', () => {
    if (!res.writableFinished) ctx.abort();
  });
  const fault = requestFault(req, headers);
  if (fault !== null) {
    // Framing in doubt (or an expectation we cannot meet): answer, close, read nothing more.
    markRefused(req.socket);
    const refusal = fail(runtime, fault, preq, ctx);
    refusal.headers.connection = 'close';
    send(runtime, preq, res, refusal, ctx, edgeSlot, null);
    return;
  }
  const tooLarge = checkHead(req, url, rules.limits);
  if (tooLarge !== null) {
    send(runtime, preq, res, fail(runtime, tooLarge, preq, ctx), ctx, edgeSlot, null);
    return;
  }
  // RFC 8555 §8.3: the CA validates over plain HTTP; answered before any redirect or route.
  const challenge = scheme === 'http' ? runtime.acmeChallenges?.answer(preq.path) ?? null : null;
  if (challenge !== null) {
    send(runtime, preq, res, challenge, ctx, edgeSlot, null);
    return;
  }
  const policy = rules.policy;
  let hsts: string | null = null;
  if (policy !== null) {
    // Redirects are answered here, before routing or any upstream sees the request.
    // Behind a trusted TLS terminator the client's scheme is the forwarded one: no redirect loop.
    const redirect = policy.redirect(preq.method, client.proto ?? scheme, ctx.host, hostHeader, url);
    if (redirect !== null) {
      const location = { status: redirect.status, headers: { location: redirect.location, 'content-type': 'text/plain' }, body: `Redirecting to ${redirect.location}\n` };
      send(runtime, preq, res, location, ctx, edgeSlot, null);
      return;
    }
    if (scheme === 'https') hsts = policy.hsts(ctx.host);
  }
  let result: PorticoResponse | Promise<PorticoResponse>;
  try {
    result = runtime.handler(preq, ctx);
  } catch (err) {
    result = fail(runtime, err, preq, ctx);
  }
  if (result instanceof Promise) {
    result.then(
      (r) => send(runtime, preq, res, r, ctx, edgeSlot, hsts),
      (err) => send(runtime, preq, res, fail(runtime, err, preq, ctx), ctx, edgeSlot, hsts),
    );
  } else {
    send(runtime, preq, res, result, ctx, edgeSlot, hsts);
  }
}

/**
 * `Expect: 100-continue` on HTTP/1.1 (node's `checkContinue`; it ignores Expect on HTTP/1.0, as
 * RFC 9110 §10.1.1 requires). node would send 100 before any layer ran; here it goes out when
 * something first reads the body (the proxy as it forwards, a buffering or body-limit stage), so a
 * route that refuses the request (413 on its declared length, a redirect, 404) answers without a
 * 100 and the client never sends the body; node then closes the connection (a final status
 * without 100: the client may still send the body, §10.1.1).
 */
export function handleContinue(runtime: EdgeRuntime, req: EdgeRequest, res: EdgeResponse, scheme: 'http' | 'https', rules: EdgeRules = NO_RULES): void {
  // _read is the Readable hook every consumer goes through (pipe, 'data', 'readable', iteration).
  const read = req._read;
  req._read = function (this: EdgeRequest, size: number): void {
    req._read = read;
    // Not after a final response: node reads (and drops) an unread body once the response is done.
    if (!res.headersSent && !res.destroyed) res.writeContinue();
    read.call(this, size);
  };
  handleRequest(runtime, req, res, scheme, rules);
}

function fail(runtime: EdgeRuntime, err: unknown, req: PorticoRequest, ctx: RequestContext): PorticoResponse {
  runtime.onError?.(err, ctx);
  return errorResponse(err, req.headers, ctx);
}

function send(runtime: EdgeRuntime, req: PorticoRequest, res: EdgeResponse, r: PorticoResponse, ctx: RequestContext, edgeSlot: number, hsts: string | null): void {
  ctx.endTiming(edgeSlot);
  if (res.destroyed) {
    discard(r.body);
    return;
  }
  const headers = r.headers;
  // RFC 9110 §15.5.14: close rather than read (and discard) the rest of a body we refused.
  if (r.status === 413) headers.connection = 'close';
  headers['x-request-id'] = ctx.id;
  headers['server-timing'] = formatServerTiming(ctx.timings);
  // The operator's HSTS policy wins over an upstream's own (one policy per host, RFC 6797 §8.1).
  if (hsts !== null) headers['strict-transport-security'] = hsts;
  const body = r.body;
  // The socket is detached from the response once it finishes: keep it to read the byte count.
  const socket = res.socket;
  const startBytes = socket?.bytesWritten ?? 0;
  // RFC 9110 §9.3.2 / §15.4.5 / §15.3.5: HEAD, 304 and 204 carry no content.
  const noContent = req.method === 'HEAD' || r.status === 304 || r.status === 204 || r.status < 200;
  // A complete payload goes out with its length rather than chunked (RFC 9112 §6.3: simpler for
  // every client and cache downstream).
  if (!noContent && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
    if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
    else if (body instanceof Uint8Array) headers['content-length'] = String(body.length);
  }
  try {
    res.writeHead(r.status, headers);
  } catch (err) {
    refuseHead(runtime, req, res, err, ctx);
    return;
  }
  if (body === null || noContent) {
    discard(body);
    res.end();
    finished(runtime, req, r, ctx, res, socket, startBytes);
  } else if (typeof body === 'string' || body instanceof Uint8Array) {
    res.end(body);
    finished(runtime, req, r, ctx, res, socket, startBytes);
  } else {
    // Trailers only where the framing carries them: a chunked body (an HTTP/1.0 client's or a
    // Content-Length response has no place for them, RFC 9112 §7.1.2).
    // (Asked in this order: an upstream response builds its trailers promise only when read.)
    const trailers = res.chunkedEncoding ? r.trailers ?? null : null;
    streamBody(body, res as unknown as Writable, trailers, (err) => {
      if (err) runtime.onError?.(err, ctx);
      finished(runtime, req, r, ctx, res, socket, startBytes);
    });
  }
}

/** An invalid header from a layer or upstream: never send half a head; 502 instead. */
function refuseHead(runtime: EdgeRuntime, req: PorticoRequest, out: http.ServerResponse, err: unknown, ctx: RequestContext): void {
  const e = errorResponse(err, req.headers, ctx);
  e.headers['x-request-id'] = ctx.id;
  out.writeHead(502, e.headers);
  out.end(e.body as string);
  runtime.onError?.(err, ctx);
}

function finished(runtime: EdgeRuntime, req: PorticoRequest, r: PorticoResponse, ctx: RequestContext, res: EdgeResponse, socket: Socket | null, startBytes: number): void {
  if (runtime.onResponse === undefined) return;
  // Per-response byte counts from the connection's running total (nginx's $bytes_sent and
  // $body_bytes_sent); node keeps the rendered head in `_header`, stable since node 0.x.
  const sent = Math.max(0, (socket?.bytesWritten ?? startBytes) - startBytes);
  const head = (res as unknown as { _header?: string | null })._header;
  ctx.bytesSent = sent;
  ctx.bodyBytesSent = Math.max(0, sent - (typeof head === 'string' ? Buffer.byteLength(head) : 0));
  runtime.onResponse(req, r, ctx);
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

/**
 * `body.pipe(res)` with the error handling `stream.pipeline()` would add. Not pipeline itself:
 * it aborts an AbortController when done, and the DOMException that builds (with its stack) cost
 * ~8% of the proxy path's CPU (docs/io-model.md). Either side failing destroys the other;
 * `done` runs once, with the first error if any.
 */
function streamBody(body: Readable, res: Writable, trailers: Promise<Record<string, string> | null> | null, done: (err: Error | null) => void): void {
  let settled = false;
  const settle = (err: Error | null) => {
    if (settled) return;
    settled = true;
    body.off('error', onBodyError);
    if (err !== null) {
      body.destroy();
      res.destroy();
    }
    done(err);
  };
  const onBodyError = (err: Error) => settle(err);
  body.once('error', onBodyError);
  res.once('finish', () => settle(null));
  res.once('close', () => {
    // The client went away before the body was through: stop reading the source.
    if (!res.writableFinished) settle(Object.assign(new Error('client closed the connection'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  });
  if (trailers === null) {
    body.pipe(res);
    return;
  }
  body.pipe(res, { end: false });
  body.once('end', () => {
    const end = (fields: Record<string, string> | null): void => {
      if (res.destroyed) return;
      const sendable = forwardableTrailers(fields);
      // node writes them in the last chunk.
      try {
        if (sendable !== null) (res as unknown as http.ServerResponse).addTrailers(sendable);
      } catch {
        // Filtered already; should node still refuse one, the body goes out complete without them.
      }
      res.end();
    };
    trailers.then(end, () => end(null));
  });
}
