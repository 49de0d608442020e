// The bare Node reference of the `tls` scenario: node:http2's secure server (h2 and, through
// allowHTTP1, HTTP/1.1 by ALPN) answering the 12-byte hello itself, one process.
//   node bench/tls/http2-hello.ts --port P --cert F --key F
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } } });
const BODY = Buffer.from('hello world\n');
http2.createSecureServer({ cert: readFileSync(values.cert!), key: readFileSync(values.key!), allowHTTP1: true }, (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
}).listen(Number(values.port), '127.0.0.1', () => process.stdout.write(`READY ${values.port}\n`));
