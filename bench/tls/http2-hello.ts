// The bare Node references of the `tls` scenario: node:http2's secure server (h2 and, through
// allowHTTP1, HTTP/1.1 by ALPN) answering the 12-byte hello itself, one process.
//   node bench/tls/http2-hello.ts --port P --cert F --key F [--api stream|compat]
// `--api stream` (the default) is node:http2's own API (`'stream'` + `stream.respond()`), the
// cheapest way node serves h2: the fair "bare node:http2" row. `--api compat` is the
// Http2ServerRequest/Response layer (the `(req, res)` listener, as node:http shapes it), which
// Portico's https listener was built on before src/edge/h2; both rows show the layer's price.
// HTTP/1.1 connections go through node's compat layer either way (the stream API is h2 only).
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, api: { type: 'string', default: 'stream' } } });
if (values.api !== 'stream' && values.api !== 'compat') throw new Error(`--api must be stream or compat, got ${values.api}`);
const BODY = Buffer.from('hello world\n');
const server = http2.createSecureServer({ cert: readFileSync(values.cert!), key: readFileSync(values.key!), allowHTTP1: true }, (_req, res) => {
  // With the stream API this listener only sees the HTTP/1.1 connections (h2 streams are answered
  // below and never become compat requests).
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
});
if (values.api === 'stream') {
  // Adding the 'request' listener made node install its compat handler on 'stream' (it builds an
  // Http2ServerRequest/Response for every stream): replaced, so h2 streams are answered here only.
  server.removeAllListeners('stream');
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': BODY.length });
    stream.end(BODY);
  });
}
server.listen(Number(values.port), '127.0.0.1', () => process.stdout.write(`READY ${values.port}\n`));
