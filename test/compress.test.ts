// Compression negotiation through the stack (RFC 9110 §12.5.3 Accept-Encoding, §12.5.5 Vary).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { request } from 'undici';
import { scriptedServer, type Scripted } from './helpers/servers.ts';
import { startStack, type TestStack } from './helpers/stack.ts';

const text = 'the quick brown fox jumps over the lazy dog\n'.repeat(200);
let s: TestStack;
let upstream: Scripted;

before(async () => {
  upstream = await scriptedServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain', etag: '"v1"' });
      let n = 0;
      const tick = () => { if (n++ < 20) res.write(text.slice(0, 500), tick); else res.end(); };
      return tick();
    }
    if (url === '/encoded') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      return res.end(zlib.gzipSync(text));
    }
    if (url === '/no-transform') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, no-transform' });
      return res.end(text);
    }
    // nginx's gzip_min_length likewise needs a known length: a chunked body of unknown size is compressed.
    if (url === '/small') return res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' }).end('tiny');
    if (url === '/png') return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(5000));
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), vary: 'Origin' });
    res.end(text);
  });
  s = await startStack({
    pools: { web: { servers: [{ url: upstream.url }] } },
    routes: [
      { path: '/plain', upstream: 'web', stripPrefix: true },
      { path: '/', upstream: 'web', compress: true },
    ],
  });
});
after(async () => { await s.close(); await upstream.close(); });

async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(s.url + path, { method, headers });
  return { status: res.statusCode, headers: res.headers as Record<string, string>, body: Buffer.from(await res.body.arrayBuffer()) };
}

test('gzip and br are negotiated by q-value; the body decodes to the original; Vary is merged', async () => {
  const gz = await get('/json', { 'accept-encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers['content-length'], undefined);
  assert.equal(gz.headers.vary, 'Origin, Accept-Encoding');
  assert.equal(zlib.gunzipSync(gz.body).toString(), text);
  const br = await get('/json', { 'accept-encoding': 'gzip;q=0.8, br' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(zlib.brotliDecompressSync(br.body).toString(), text);
  const star = await get('/json', { 'accept-encoding': '*;q=0.5, br;q=0' });
  assert.notEqual(star.headers['content-encoding'], 'br');
  assert.ok(star.headers['content-encoding'] !== undefined, '* allows the other codings');
  const refused = await get('/json', { 'accept-encoding': 'gzip;q=0, br;q=0, zstd;q=0' });
  assert.equal(refused.headers['content-encoding'], undefined);
  assert.equal(refused.body.toString(), text);
});

test('streamed bodies without a length are compressed as they flow, and strong ETags become weak', async () => {
  const r = await get('/stream', { 'accept-encoding': 'gzip' });
  assert.equal(r.headers['content-encoding'], 'gzip');
  assert.equal(r.headers.etag, 'W/"v1"');
  assert.equal(zlib.gunzipSync(r.body).toString(), text.slice(0, 500).repeat(20));
});

test('never twice, never against no-transform, never for small or incompressible bodies; HEAD gets GET\'s fields without a body', async () => {
  const enc = await get('/encoded', { 'accept-encoding': 'gzip, br' });
  assert.equal(enc.headers['content-encoding'], 'gzip');
  assert.equal(zlib.gunzipSync(enc.body).toString(), text, 'decodes once');
  const nt = await get('/no-transform', { 'accept-encoding': 'gzip' });
  assert.equal(nt.headers['content-encoding'], undefined);
  const small = await get('/small', { 'accept-encoding': 'gzip' });
  assert.equal(small.headers['content-encoding'], undefined);
  assert.equal(small.headers.vary, 'Accept-Encoding', 'the answer still depends on Accept-Encoding');
  const png = await get('/png', { 'accept-encoding': 'gzip' });
  assert.equal(png.headers['content-encoding'], undefined);
  // RFC 9110 §9.3.2: the fields a GET would get (a cache in front freshens its compressed copy by them, RFC 9111 §4.3.5).
  const head = await get('/json', { 'accept-encoding': 'gzip' }, 'HEAD');
  assert.equal(head.headers['content-encoding'], 'gzip');
  assert.equal(head.headers['content-length'], undefined, 'the encoded length is not known without encoding');
  assert.equal(head.headers.vary, 'Origin, Accept-Encoding');
  assert.equal(head.body.length, 0);
  const smallHead = await get('/small', { 'accept-encoding': 'gzip' }, 'HEAD');
  assert.equal(smallHead.headers['content-encoding'], undefined);
  assert.equal(smallHead.headers['content-length'], '4');
  const off = await get('/plain/json', { 'accept-encoding': 'gzip' });
  assert.equal(off.headers['content-encoding'], undefined, 'routes without compress are left alone');
});
