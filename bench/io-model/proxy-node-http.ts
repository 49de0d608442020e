// Prototype A: the data plane as DESIGN.md first drew it. `node:http` (llhttp) parses the
// client side, an undici Pool keeps keep-alive connections to the origin, the response body
// streams back through `pipeline`, and the request goes through the project's `compose()` chain
// with its own types. This is the idiomatic Node proxy: what it costs is what the idioms cost.
//
//   node bench/io-model/proxy-node-http.ts --port 8081 --origin http://127.0.0.1:8080 [--layers 5] [--procs 2]
import http from 'node:http';
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { compose } from '../../src/http/compose.ts';
import { BadGatewayError } from '../../src/http/errors.ts';
import { errorResponse } from '../../src/http/error-response.ts';
import { HOP_BY_HOP, connectionOptions, endToEnd } from '../../src/http/headers.ts';
import type { Handler, PorticoRequest, PorticoResponse, RequestHeaders, ResponseHeaders } from '../../src/http/types.ts';
import { hostName } from '../../src/edge/h1/request-head.ts';
import { type ServerOptions, launch, newContext, noopLayers, parseServerArgs } from './server-common.ts';

/** undici refuses these in a request (it owns them), and `expect` is answered by node:http itself. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'expect']);

function forwardHeaders(headers: RequestHeaders): Record<string, string> {
  const listed = headers.connection === undefined ? null : connectionOptions(headers.connection);
  const out: Record<string, string> = {};
  for (const name in headers) {
    if (NOT_FORWARDED.has(name) || (listed !== null && listed.includes(name))) continue;
    out[name] = headers[name];
  }
  return out;
}

/** The terminal handler: one undici request per client request, body streamed both ways. */
function undiciTerminal(pool: Pool, address: string): Handler {
  return async (req, ctx) => {
    ctx.upstreamAddress = address;
    let res: Dispatcher.ResponseData;
    try {
      res = await pool.request({
        path: req.target,
        method: req.method as Dispatcher.HttpMethod,
        headers: forwardHeaders(req.headers),
        body: req.body,
      });
    } catch (err) {
      throw new BadGatewayError(`upstream request failed: ${(err as Error).message}`, 'UPSTREAM_ERROR', { cause: err });
    }
    // Hop-by-hop fields of the response are dropped too (RFC 9110 §7.6.1); undici already
    // validated the upstream framing (llhttp, strict mode).
    return { status: res.statusCode, headers: endToEnd(res.headers) as ResponseHeaders, body: res.body };
  };
}

function send(res: http.ServerResponse, out: PorticoResponse): void {
  const body = out.body;
  if (res.destroyed) {
    if (body instanceof Readable) body.on('error', () => {}).destroy(); // the client left while we waited upstream
    return;
  }
  res.writeHead(out.status, out.headers);
  if (body instanceof Readable) {
    // pipe() rather than pipeline(): pipeline aborts an AbortController on every completion, and the
    // DOMException that creates (with its stack trace) cost ~8% of the CPU in a profile. Errors
    // are wired by hand instead: either end failing destroys the other (a truncated body, never a wrong one).
    body.once('error', () => res.destroy());
    res.once('close', () => {
      if (!body.readableEnded) body.destroy();
    });
    body.pipe(res);
  } else {
    res.end(body ?? undefined);
  }
}

export async function startNodeHttpProxy(options: ServerOptions): Promise<http.Server> {
  const origin = options.origin;
  const pool = new Pool(origin, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });
  const handler = compose(noopLayers(options.layers), undiciTerminal(pool, origin.host));
  const server = http.createServer({
    keepAliveTimeout: 75_000,
    // Repeated fields joined per RFC 9110 §5.3 instead of node's "first wins" for some names.
    joinDuplicateHeaders: true,
    noDelay: true,
  }, (req, res) => {
    const headers = req.headers as RequestHeaders;
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    // llhttp has settled the framing: a body exists if it announced one (RFC 9112 §6.3).
    const cl = headers['content-length'];
    const hasBody = headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
    const preq: PorticoRequest = {
      method: req.method ?? 'GET',
      target,
      path: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? '' : target.slice(q + 1),
      headers,
      body: hasBody ? req : null,
      httpVersion: req.httpVersion,
    };
    const socket = req.socket;
    const ctx = newContext(socket.remoteAddress ?? '', socket.remotePort ?? 0, hostName(headers.host));
    let result: PorticoResponse | Promise<PorticoResponse>;
    try {
      result = handler(preq, ctx);
    } catch (err) {
      result = errorResponse(err, headers, ctx);
    }
    if (result instanceof Promise) {
      result.then((out) => send(res, out), (err: unknown) => send(res, errorResponse(err, headers, ctx)));
    } else send(res, result);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, reusePort: true }, resolve);
  });
  return server;
}

if (import.meta.main) launch(parseServerArgs(), async (options) => {
  await startNodeHttpProxy(options);
});
