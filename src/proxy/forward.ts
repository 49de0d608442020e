// Forwarding to a server the balancer chose, through the server's client (Portico's own HTTP/1.1
// pool in src/proxy/h1-client, or undici for `client: 'undici'` and https): the request body
// streams up and the response body back with backpressure; nothing is buffered whole (the own
// client hands a small response that arrived with its head as one buffer). A failure that is
// safe to repeat (the connection was never made, or an idempotent request without a sent body
// died before any response byte) is retried on another server, within the pool's retry budget.
import type { Handler, PorticoRequest, PorticoResponse } from '../http/types.ts';
import type { RequestContext } from '../http/context.ts';
import { BadGatewayError, GatewayTimeoutError, HttpError } from '../http/errors.ts';
import type { UpstreamPool, UpstreamServer } from '../balancer/upstream-pool.ts';
import type { PickRequest } from '../balancer/policies/policy.ts';
import { AllServersDownError } from '../balancer/errors.ts';
import { ForwardedMemo, upstreamRequestHeaders } from './request-headers.ts';
import { tlsFailureReason } from '../balancer/upstream-tls.ts';
import { ForwardAttempt } from './forward-attempt.ts';

export interface ForwardOptions {
  pool: UpstreamPool;
  /** Remove the route's matched prefix from the path (nginx `proxy_pass http://x/;`). */
  stripPrefix: boolean;
  /** Name of this stage in Server-Timing. */
  timingName?: string;
}

/**
 * A response step run on the upstream's answer as it arrives (route-rules.ts's Location rewrite),
 * inside the proxy's own resolution instead of a `.then` around it: one promise, one closure and one
 * microtask fewer per request. It sees the same request and context a layer directly around the
 * proxy would; a throw is the request's failure, as a rejected `.then` would be.
 */
export type AnswerHook = (res: PorticoResponse, req: PorticoRequest, ctx: RequestContext) => PorticoResponse;

/** The proxy's handler, which can take an AnswerHook for the layer directly around it. */
export interface ForwardingHandler extends Handler {
  withAnswerHook(hook: AnswerHook): Handler;
}

export function isForwardingHandler(h: Handler): h is ForwardingHandler {
  return typeof (h as Partial<ForwardingHandler>).withAnswerHook === 'function';
}

export function forwardHandler(options: ForwardOptions): ForwardingHandler {
  return build(options, null);
}

function build(options: ForwardOptions, hook: AnswerHook | null): ForwardingHandler {
  const { pool, stripPrefix } = options;
  const timingName = options.timingName ?? 'proxy';
  const memo = new ForwardedMemo();
  const send = (req: PorticoRequest, ctx: RequestContext, pick: PickRequest, server: UpstreamServer): Promise<PorticoResponse> => {
    const slot = ctx.startTiming(timingName);
    let path = req.target;
    if (stripPrefix && ctx.route !== null && ctx.route.prefix !== '/') {
      path = path.slice(ctx.route.prefix.length);
      if (path === '' || path[0] !== '/') path = '/' + path;
    }
    const headers = upstreamRequestHeaders(req.headers, ctx, memo);
    // The own client watches the context itself for the client leaving (no AbortController).
    const attempt = new ForwardAttempt(pool, req, ctx, pick, server, { method: req.method, path, headers, body: req.body, signal: ctx }, slot, upstreamError, hook);
    attempt.start();
    return attempt.promise;
  };
  const handler: Handler = (req, ctx) => {
    const pick: PickRequest = { clientAddress: ctx.clientAddress, headers: req.headers, exclude: null };
    // Not async: a server free at once (the common case) costs no promise or microtask to get,
    // and the context is asked for its AbortSignal only if the request has to queue.
    let acquired: UpstreamServer | Promise<UpstreamServer>;
    try {
      acquired = pool.acquire(pick, ctx);
    } catch (err) {
      return acquireFailed(pool, ctx, err);
    }
    if (acquired instanceof Promise) return acquired.then((server) => send(req, ctx, pick, server), (err: unknown) => acquireFailed(pool, ctx, err));
    return send(req, ctx, pick, acquired);
  };
  return Object.assign(handler, {
    // An outer hook runs after an inner one, as the layers would.
    withAnswerHook: (outer: AnswerHook): Handler => build(options, hook === null ? outer : (res, req, ctx) => outer(hook(res, req, ctx), req, ctx)),
  });
}

/** No server could be had: the pool's maintenance page, or the error (a promise either way, never a throw). */
function acquireFailed(pool: UpstreamPool, ctx: RequestContext, err: unknown): Promise<PorticoResponse> {
  if (err instanceof AllServersDownError && pool.maintenance !== null) return Promise.resolve(maintenanceResponse(pool, err));
  // The client left while queued: nginx's 499, not a server error.
  if (ctx.aborted && !(err instanceof HttpError)) return Promise.reject(new HttpError(499, 'CLIENT_CLOSED_REQUEST', 'client closed the request', { cause: err }));
  return Promise.reject(err);
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
