// Per-route request and response rules, wrapped around the route's target once per config
// snapshot (outermost first): error pages → response headers → Location rewrite → request
// headers → path rewrite → target. Each rule is only in the chain when the route uses it.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { PayloadTooLargeError } from '../http/errors.ts';
import type { Handler, PorticoRequest, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import type { RequestContext } from '../http/context.ts';
import type { ResolvedHeaderRules, ResolvedRoute } from '../config/resolved.ts';
import { contentType } from '../static/mime.ts';
import { expand } from './captures.ts';
import type { StageInfo } from './targets.ts';
import { isForwardingHandler } from '../proxy/forward.ts';

export function withRouteRules(route: ResolvedRoute, handler: Handler, stages: StageInfo[]): Handler {
  let h = handler;
  const added: StageInfo[] = [];
  if (route.bufferRequest !== null) {
    h = bufferLayer(h, route.bufferRequest);
    added.unshift({ name: 'buffer', describe: `whole request body read first, up to ${route.bufferRequest} B` });
  }
  if (route.rewrite !== null) {
    h = rewriteLayer(h, route.rewrite.from, route.rewrite.to);
    added.unshift({ name: 'rewrite', describe: `${route.rewrite.from} → ${route.rewrite.to}` });
  }
  if (route.requestHeaders !== null || route.hostHeader !== null) {
    h = requestHeadersLayer(h, route.requestHeaders, route.hostHeader);
    added.unshift({ name: 'request-headers', describe: describeRules(route.requestHeaders, route.hostHeader) });
  }
  if (route.rewriteLocation && (route.kind === 'upstream' || route.kind === 'app')) {
    h = locationLayer(h, route.hostHeader);
  }
  if (route.responseHeaders !== null) {
    h = responseHeadersLayer(h, route.responseHeaders);
    added.unshift({ name: 'response-headers', describe: describeRules(route.responseHeaders, null) });
  }
  const pages = Object.entries(route.errorPages);
  if (pages.length > 0) {
    h = errorPagesLayer(h, pages);
    added.unshift({ name: 'error-pages', describe: pages.map(([s]) => s).join(', ') });
  }
  stages.unshift(...added);
  return h;
}

/** Rewrites the path (nginx `rewrite … break`): the query is kept unless the template sets one. */
function rewriteLayer(next: Handler, from: string, to: string): Handler {
  const re = new RegExp(from);
  return (req, ctx) => {
    const m = re.exec(req.path);
    if (m === null) return next(req, ctx);
    const replaced = expand(to, m);
    const q = replaced.indexOf('?');
    const path = q === -1 ? replaced : replaced.slice(0, q);
    const query = q === -1 ? req.query : replaced.slice(q + 1);
    const rewritten: PorticoRequest = { ...req, path, query, target: query === '' ? path : `${path}?${query}` };
    // The prefix no longer describes the rewritten path: a later strip must not cut it again.
    if (ctx.route !== null) ctx.route = { ...ctx.route, prefix: '/' };
    return next(rewritten, ctx);
  };
}

function applyRules(headers: Record<string, string | string[]>, rules: ResolvedHeaderRules): void {
  for (const name of rules.remove) delete headers[name];
  for (const name in rules.set) headers[name] = rules.set[name];
  for (const name in rules.add) {
    const v = headers[name];
    headers[name] = v === undefined ? rules.add[name] : Array.isArray(v) ? [...v, rules.add[name]] : name === 'set-cookie' ? [v, rules.add[name]] : `${v}, ${rules.add[name]}`;
  }
}

function requestHeadersLayer(next: Handler, rules: ResolvedHeaderRules | null, host: string | null): Handler {
  return (req, ctx) => {
    const headers: Record<string, string> = { ...req.headers };
    if (rules !== null) applyRules(headers, rules);
    // Host rewrite (nginx `proxy_set_header Host`): routing already used the client's Host.
    if (host !== null) headers['host'] = host;
    return next({ ...req, headers }, ctx);
  };
}

function responseHeadersLayer(next: Handler, rules: ResolvedHeaderRules): Handler {
  return async (req, ctx) => {
    const res = await next(req, ctx);
    applyRules(res.headers, rules);
    return res;
  };
}

/**
 * nginx's default `proxy_redirect`: a Location or Content-Location naming the upstream server (or
 * the Host we sent it, which is what a backend builds absolute URLs from) is rewritten to the
 * origin the client used, with the route's stripped prefix put back.
 */
function locationLayer(next: Handler, sentHost: string | null): Handler {
  // Directly around the proxy (no request rule between, so the same request and context): the
  // rewrite runs as the upstream's answer arrives, with no promise of its own (forward.ts AnswerHook).
  if (isForwardingHandler(next)) return next.withAnswerHook((res, req, ctx) => rewriteLocation(res, req, ctx, sentHost));
  // Not async: a response without Location (nearly all) passes with no extra promise or tick.
  return (req, ctx) => {
    const res = next(req, ctx);
    return res instanceof Promise ? res.then((r) => rewriteLocation(r, req, ctx, sentHost)) : rewriteLocation(res, req, ctx, sentHost);
  };
}

function rewriteLocation(res: PorticoResponse, req: PorticoRequest, ctx: RequestContext, sentHost: string | null): PorticoResponse {
  if (res.headers['location'] === undefined && res.headers['content-location'] === undefined) return res;
  const upstream = ctx.upstreamAddress;
  const authorities: string[] = [];
  if (upstream !== null && !upstream.startsWith('unix:')) authorities.push(upstream);
  if (sentHost !== null) authorities.push(sentHost);
  if (authorities.length === 0) return res;
  for (const name of ['location', 'content-location'] as const) {
    const v = res.headers[name];
    if (typeof v !== 'string') continue;
    for (const base of authorities.flatMap((a) => [`http://${a}`, `https://${a}`])) {
      if (v === base || v.startsWith(base + '/')) {
        const prefix = ctx.route !== null && ctx.route.prefix !== '/' && req.path.startsWith(ctx.route.prefix) ? ctx.route.prefix : '';
        res.headers[name] = `${ctx.scheme}://${req.headers['host'] ?? ctx.host}${prefix}${v.slice(base.length) || '/'}`;
      }
    }
  }
  return res;
}

/** Error pages (nginx `error_page 404 /404.html`): files read once per config snapshot. */
function errorPagesLayer(next: Handler, pages: [string, string][]): Handler {
  const bodies = new Map(pages.map(([status, file]) => [Number(status), { body: readFileSync(file), type: contentType(file) }]));
  return async (req, ctx) => {
    let res: PorticoResponse;
    try {
      res = await next(req, ctx);
    } catch (err) {
      const status = (err as { status?: number }).status ?? 500;
      if (!bodies.has(status)) throw err;
      const e = err as { headers?: Record<string, string>; code?: string };
      res = { status, headers: { ...e.headers, 'x-portico-error': e.code ?? 'ERROR' }, body: null };
    }
    const page = bodies.get(res.status);
    if (page === undefined) return res;
    const body = res.body;
    if (body !== null && typeof body === 'object' && 'destroy' in body) {
      body.on('error', () => {});
      body.destroy();
    }
    const headers: ResponseHeaders = { ...res.headers, 'content-type': page.type, 'content-length': String(page.body.length), 'cache-control': 'no-store' };
    delete headers['content-encoding'];
    delete headers['etag'];
    delete headers['content-range'];
    return { status: res.status, headers, body: page.body };
  };
}

function describeRules(rules: ResolvedHeaderRules | null, host: string | null): string {
  const parts: string[] = [];
  if (rules !== null) {
    for (const k in rules.set) parts.push(`set ${k}`);
    for (const k in rules.add) parts.push(`add ${k}`);
    for (const k of rules.remove) parts.push(`remove ${k}`);
  }
  if (host !== null) parts.push(`Host: ${host}`);
  return parts.join(', ');
}

/**
 * Reads the whole request body before the target runs (nginx `proxy_request_buffering on`), so a
 * slow client never holds an upstream connection. Past `maxSize`: 413, and the body is not read on.
 */
function bufferLayer(next: Handler, maxSize: number): Handler {
  return async (req, ctx) => {
    const body = req.body;
    if (body === null) return next(req, ctx);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxSize) throw new PayloadTooLargeError(`request body of ${declared} bytes exceeds the buffer limit of ${maxSize}`, 'BODY_TOO_LARGE');
    const { chunks, size } = await readCapped(body, maxSize);
    const buffered = Buffer.concat(chunks, size);
    // Re-framed with its now known length (RFC 9112 §6.2): the upstream gets no chunked encoding.
    const headers: Record<string, string> = { ...req.headers, 'content-length': String(size) };
    delete headers['transfer-encoding'];
    return next({ ...req, headers, body: Readable.from([buffered]) }, ctx);
  };
}

/**
 * Collects a body up to `maxSize`. Past it the read stops without destroying the stream (that
 * would reset the connection before the 413 could be written); the edge closes the connection
 * after the error response since the rest of the body is unread.
 */
function readCapped(body: Readable, maxSize: number): Promise<{ chunks: Buffer[]; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxSize) {
        cleanup();
        body.pause();
        reject(new PayloadTooLargeError(`request body exceeds the buffer limit of ${maxSize} bytes`, 'BODY_TOO_LARGE'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve({ chunks, size });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  });
}
