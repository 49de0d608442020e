// Forwarding to a server the balancer chose, through the server's client (Portico's own HTTP/1.1
// pool in src/proxy/h1-client, or undici for `client: 'undici'` and https): the request body
// streams up and the response body back with backpressure; nothing is buffered whole (the own
// client hands a small response that arrived with its head as one buffer). A failure that is
// safe to repeat (the connection was never made, or an idempotent request without a sent body
// died before any response byte) is retried on another server, within the pool's retry budget.
import type { Dispatcher } from 'undici';
import type { Handler, PorticoRequest, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import type { RequestContext } from '../http/context.ts';
import { BadGatewayError, GatewayTimeoutError, HttpError } from '../http/errors.ts';
import { HOP_BY_HOP, connectionOptions } from '../http/headers.ts';
import type { UpstreamPool, UpstreamServer } from '../balancer/upstream-pool.ts';
import type { PickRequest } from '../balancer/policies/policy.ts';
import { AllServersDownError } from '../balancer/errors.ts';
import { upstreamRequestHeaders } from './request-headers.ts';
import { isRetryable } from './retryable.ts';
import type { UpstreamResponse as H1Response } from './h1-client/exchange.ts';
import { Readable } from 'node:stream';
import { tlsFailureReason } from '../balancer/upstream-tls.ts';
import { UpstreamResponse } from './upstream-response.ts';

export interface ForwardOptions {
  pool: UpstreamPool;
  /** Remove the route's matched prefix from the path (nginx `proxy_pass http://x/;`). */
  stripPrefix: boolean;
  /** Name of this stage in Server-Timing. */
  timingName?: string;
}

export function forwardHandler(options: ForwardOptions): Handler {
  const { pool, stripPrefix } = options;
  const timingName = options.timingName ?? 'proxy';
  return async (req, ctx) => {
    const pick: PickRequest = { clientAddress: ctx.clientAddress, headers: req.headers, exclude: null };
    let server: UpstreamServer;
    try {
      server = await pool.acquire(pick, ctx.signal);
    } catch (err) {
      if (err instanceof AllServersDownError && pool.maintenance !== null) return maintenanceResponse(pool, err);
      // The client left while queued: nginx's 499, not a server error.
      if (ctx.aborted && !(err instanceof HttpError)) throw new HttpError(499, 'CLIENT_CLOSED_REQUEST', 'client closed the request', { cause: err });
      throw err;
    }
    const slot = ctx.startTiming(timingName);
    let path = req.target;
    if (stripPrefix && ctx.route !== null && ctx.route.prefix !== '/') {
      path = path.slice(ctx.route.prefix.length);
      if (path === '' || path[0] !== '/') path = '/' + path;
    }
    const headers = upstreamRequestHeaders(req.headers, ctx);
    let tried: Set<UpstreamServer> | null = null;
    for (;;) {
      ctx.upstreamAddress = server.address;
      let out: PorticoResponse;
      try {
        out = server.client === 'portico'
          ? ownResponse(await server.h1.request({ method: req.method, path, headers, body: req.body, signal: ctx.signal }), ctx.timings)
          : toResponse(await server.dispatcher.request({
            method: req.method as Dispatcher.HttpMethod,
            path,
            headers,
            body: req.body ?? undefined,
            signal: ctx.signal,
          }), ctx.timings);
      } catch (err) {
        server.failures++;
        // A client that left is no fault of the server's.
        if (!ctx.aborted) pool.report(server, false);
        pool.release(server);
        if (server.timedOut) {
          // The gunicorn answer for a worker killed by its timeout: 504 at once, no retry.
          ctx.endTiming(slot);
          throw new GatewayTimeoutError(`app worker ${server.address} did not answer within its workerTimeout and was replaced`, 'WORKER_TIMEOUT', { cause: err });
        }
        const next = retryTarget(pool, req, ctx, pick, err, (tried ??= new Set()).add(server));
        if (next === null) {
          ctx.endTiming(slot);
          throw upstreamError(err, server);
        }
        server = next;
        continue;
      }
      ctx.endTiming(slot);
      pool.report(server, out.status < 500);
      const held = server;
      const body = out.body;
      if (body instanceof Readable) {
        body.once('close', () => pool.release(held));
        // Aborts by our own client are not the server's fault (and not worth a line).
        body.once('error', (err) => { if (!ctx.aborted) pool.bodyFailed(held, err); });
      } else {
        pool.release(held); // the whole body came with the head (own client): the server is done
      }
      const cookie = pool.policy.setCookie?.(server, pick) ?? null;
      if (cookie !== null) appendSetCookie(out.headers, cookie);
      return out;
    }
  };
}

/** The next server for a failed attempt, or null when the failure must be answered. */
function retryTarget(pool: UpstreamPool, req: PorticoRequest, ctx: RequestContext, pick: PickRequest, err: unknown, tried: Set<UpstreamServer>): UpstreamServer | null {
  if (ctx.aborted || tried.size > pool.settings.retries || !isRetryable(err, req)) return null;
  if (!pool.budget.withdraw()) return null;
  return pool.tryAcquire({ ...pick, exclude: tried });
}

function maintenanceResponse(pool: UpstreamPool, err: AllServersDownError): PorticoResponse {
  return {
    status: 503,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'retry-after': String(pool.settings.retryAfter),
      'x-portico-error': err.code,
    },
    body: pool.maintenance as Buffer,
  };
}

function appendSetCookie(headers: ResponseHeaders, cookie: string): void {
  const existing = headers['set-cookie'];
  headers['set-cookie'] = existing === undefined ? cookie : [...(Array.isArray(existing) ? existing : [existing]), cookie];
}

function toResponse(res: Dispatcher.ResponseData, timings: { name: string; dur: number }[]): PorticoResponse {
  const upstream = res.headers as Record<string, string | string[] | undefined>;
  const listed = upstream['connection'] === undefined ? null : connectionOptions(upstream['connection']);
  const headers: ResponseHeaders = {};
  for (const name in upstream) {
    const v = upstream[name];
    if (v === undefined || HOP_BY_HOP.has(name) || (listed !== null && listed.includes(name))) continue;
    if (name === 'server-timing') {
      // The upstream's own entries (e.g. the app worker's `app;dur=`) continue the journey's list.
      for (const entry of Array.isArray(v) ? v : [v]) timings.push({ name: entry, dur: -1 });
      continue;
    }
    headers[name] = v;
  }
  // Trailers (RFC 9110 §6.5) ride on the response, read lazily once the body has ended.
  return new UpstreamResponse(res, headers);
}

/** The own client's response: its fields are end-to-end already; Server-Timing entries join the journey's. */
function ownResponse(res: H1Response, timings: { name: string; dur: number }[]): PorticoResponse {
  const entries = res.serverTiming;
  if (entries !== null) for (const entry of entries) timings.push({ name: entry, dur: -1 });
  return res;
}

/** Stable codes for each way an upstream can fail (what nginx logs as upstream errors). */
export function upstreamError(err: unknown, server: UpstreamServer): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { code?: string; message?: string; name?: string };
  const at = server.address;
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'ENOENT':
      return new BadGatewayError(`upstream ${at} refused the connection`, 'UPSTREAM_CONNECTION_REFUSED', { cause: err });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new GatewayTimeoutError(`upstream ${at} did not accept the connection in time`, 'UPSTREAM_CONNECT_TIMEOUT', { cause: err });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new GatewayTimeoutError(`upstream ${at} did not answer in time`, 'UPSTREAM_TIMEOUT', { cause: err });
    case 'UND_ERR_ABORTED':
      return new HttpError(499, 'CLIENT_CLOSED_REQUEST', 'client closed the request', { cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      // TLS 1.3 (RFC 8446 §4.4.2.4): a server refuses a missing or untrusted client certificate after
      // the client's handshake is done, so undici only sees the connection close.
      return new BadGatewayError(`upstream ${at} closed the connection${server.tls === null ? '' : ' (over TLS this is also how a server refuses a missing or untrusted client certificate)'}`, 'UPSTREAM_RESET', { cause: err });
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return new HttpError(400, 'BODY_LENGTH_MISMATCH', 'request body did not match its Content-Length', { cause: err });
    default:
      if (e.name === 'AbortError') return new HttpError(499, 'CLIENT_CLOSED_REQUEST', 'client closed the request', { cause: err });
      if (tlsFailureReason(err) !== null) return new BadGatewayError(`TLS handshake with upstream ${at} failed: ${tlsFailureReason(err)}`, 'UPSTREAM_TLS', { cause: err });
      return new BadGatewayError(`upstream ${at} failed: ${e.code ?? e.message ?? 'unknown error'}`, 'UPSTREAM_ERROR', { cause: err });
  }
}
