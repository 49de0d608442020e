// The Node peers of the `proxy` scenario, each as its authors document it, one process:
//   undici       bare node:http + an undici Pool (64 keep-alive connections), body piped back
//   http-proxy   node-http-proxy's `web()` with a keep-alive agent
//   reply-from   Fastify + @fastify/reply-from (undici underneath)
//   node bench/peers/node-proxy.ts --kind undici|http-proxy|reply-from --port P --origin http://127.0.0.1:O
import http from 'node:http';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Pool, type Dispatcher } from 'undici';

const { values } = parseArgs({ options: { kind: { type: 'string' }, port: { type: 'string' }, origin: { type: 'string' } } });
const port = Number(values.port);
const origin = values.origin!;
const ready = () => process.stdout.write(`READY ${port}\n`);

// Hop-by-hop fields are not forwarded (RFC 9110 §7.6.1); undici refuses them anyway.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'trailer', 'expect']);

if (values.kind === 'undici') {
  const pool = new Pool(origin, { connections: 64, pipelining: 1 });
  http.createServer((req, res) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    pool.request({ path: req.url!, method: req.method as Dispatcher.HttpMethod, headers, body: hasBody ? req : null }).then((up) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
      res.writeHead(up.statusCode, out);
      up.body.pipe(res);
    }, () => {
      res.writeHead(502).end();
    });
  }).listen(port, '127.0.0.1', ready);
} else if (values.kind === 'http-proxy') {
  // No type declarations ship with http-proxy; the one call used is typed here.
  type HttpProxy = { createProxyServer(o: object): { web(req: http.IncomingMessage, res: http.ServerResponse, o: object, cb: (e: Error) => void): void } };
  process.noDeprecation = true; // http-proxy calls util._extend: a warning per start, not a finding
  const httpProxy = createRequire(import.meta.url)('http-proxy') as HttpProxy;
  const proxy = httpProxy.createProxyServer({ target: origin, agent: new http.Agent({ keepAlive: true, maxSockets: 64 }) });
  http.createServer((req, res) => proxy.web(req, res, {}, () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  })).listen(port, '127.0.0.1', ready);
} else if (values.kind === 'reply-from') {
  const { default: Fastify } = await import('fastify');
  const { default: replyFrom } = await import('@fastify/reply-from');
  const app = Fastify();
  await app.register(replyFrom, { base: origin, undici: { connections: 64, pipelining: 1 } });
  // Every method, any path, bodies passed through unparsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  app.all('/*', (req, reply) => reply.from(req.url));
  await app.listen({ port, host: '127.0.0.1' });
  ready();
} else {
  throw new Error(`--kind must be undici, http-proxy or reply-from, got ${values.kind}`);
}
