// A framework app in-process: its responses reach the client whole and byte-exact through the
// cache and compression, with the fields middleware set and every cookie (src/http/body-source.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { startStack, type TestStack } from './helpers/stack.ts';

const APP = fileURLToPath(new URL('./fixtures/apps/framework-app.ts', import.meta.url));
let s: TestStack;

before(async () => {
  s = await startStack({
    apps: { fw: { module: APP, mode: 'in-process' } },
    routes: [{ path: '/', app: 'fw', cache: true, compress: true }],
  });
});
after(() => s.close());

test('UTF-8 text: Content-Length counts bytes, and a cache hit serves the same bytes', async () => {
  const first = await request(`${s.url}/cached`);
  const body = Buffer.from(await first.body.arrayBuffer());
  assert.equal(first.statusCode, 200);
  assert.equal(body.toString(), 'héllo ✓ wörld 1\n');
  assert.equal(first.headers['content-length'], String(body.byteLength));
  assert.equal(first.headers['content-type'], 'text/plain;charset=UTF-8');
  assert.equal(first.headers['x-mw'], 'after', 'a field middleware set after next()');
  const hit = await request(`${s.url}/cached`);
  assert.equal(await hit.body.text(), 'héllo ✓ wörld 1\n', 'served from the cache, not the app');
  assert.equal(hit.headers['x-cache'], 'HIT');
});

test('a large text body compresses and decodes to every byte; HEAD keeps the length', async () => {
  const r = await request(`${s.url}/big`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(r.headers['content-encoding'], 'gzip');
  assert.equal(gunzipSync(Buffer.from(await r.body.arrayBuffer())).toString(), 'ü'.repeat(5000));
  const plain = await request(`${s.url}/big`);
  assert.equal(plain.headers['content-length'], '10000');
  await plain.body.text();
  const head = await request(`${s.url}/big`, { method: 'HEAD' });
  assert.equal(head.headers['content-length'], '10000');
  assert.equal(await head.body.text(), '');
});

test('JSON with a status and two cookies; a response the handler read first goes out through its stream', async () => {
  const r = await request(`${s.url}/json`);
  assert.equal(r.statusCode, 201);
  assert.deepEqual(await r.body.json(), { s: 'ä✓' });
  assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
  const read = await request(`${s.url}/read-first`);
  assert.equal(read.statusCode, 200);
  assert.equal(await read.body.text(), 'read by the handler first');
});
