// Forwarding to one chosen server: undici streams the request body up and the response body
// back with backpressure; nothing is buffered whole.
import type { Dispatcher } from 'undici';
import type { Handler, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import { BadGatewayError, GatewayTimeoutError, HttpError, ServiceUnavailableError } from '../http/errors.ts';
import { HOP_BY_HOP, connectionOptions } from '../http/headers.ts';
import type { UpstreamPool, UpstreamServer } from '../balancer/upstream-pool.ts';
import { upstreamRequestHeaders } from './request-headers.ts';

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
    const server = pool.pick();
    if (server === null) throw new ServiceUnavailableError(`no server available in pool "${pool.name}"`, 'NO_UPSTREAM');
    const slot = ctx.startTiming(timingName);
    let path = req.target;
    if (stripPrefix && ctx.route !== null && ctx.route.prefix !== '/') {
      path = path.slice(ctx.route.prefix.length);
      if (path === '' || path[0] !== '/') path = '/' + path;
    }
    ctx.upstreamAddress = server.address;
    server.inFlight++;
    server.requests++;
    let res: Dispatcher.ResponseData;
    try {
      res = await server.dispatcher.request({
        method: req.method as Dispatcher.HttpMethod,
        path,
        headers: upstreamRequestHeaders(req.headers, ctx),
        body: req.body ?? undefined,
        signal: ctx.signal,
      });
    } catch (err) {
      server.inFlight--;
      server.failures++;
      ctx.endTiming(slot);
      throw upstreamError(err, server);
    }
    ctx.endTiming(slot);
    const done = () => { server.inFlight--; };
    res.body.once('close', done);
    return toResponse(res, ctx.timings);
  };
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
  return { status: res.statusCode, headers, body: res.body };
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
      return new BadGatewayError(`upstream ${at} closed the connection`, 'UPSTREAM_RESET', { cause: err });
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return new HttpError(400, 'BODY_LENGTH_MISMATCH', 'request body did not match its Content-Length', { cause: err });
    default:
      if (e.name === 'AbortError') return new HttpError(499, 'CLIENT_CLOSED_REQUEST', 'client closed the request', { cause: err });
      return new BadGatewayError(`upstream ${at} failed: ${e.code ?? e.message ?? 'unknown error'}`, 'UPSTREAM_ERROR', { cause: err });
  }
}
