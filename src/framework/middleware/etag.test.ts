import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createApp, etag, noneMatchFails, type EtagOptions } from '../index.ts';

const BODY = JSON.stringify([{ id: 1, name: 'lamp' }]);
const TAG = `"${createHash('sha1').update(BODY).digest('base64url')}"`;

function app(options?: EtagOptions) {
  const a = createApp();
  a.use(etag(options));
  a.get('/p', (c) => c.body(BODY, { headers: { 'content-type': 'application/json', 'cache-control': 'max-age=60', vary: 'Accept' } }));
  a.post('/p', (c) => c.text(BODY));
  a.get('/created', (c) => c.text(BODY, 201));
  a.get('/tagged', (c) => c.text(BODY, 200, { etag: '"v1"' }));
  a.get('/nostore', (c) => c.text(BODY, 200, { 'cache-control': 'private, no-store' }));
  a.get('/stream', (c) => c.body(chunks(['a'.repeat(10), 'b'.repeat(10), 'c'.repeat(10)])));
  a.get('/empty', () => new Response(null));
  return a;
}

function chunks(parts: string[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(ctl) {
      if (i < parts.length) ctl.enqueue(new TextEncoder().encode(parts[i++]));
      else ctl.close();
    },
  });
}

test('etag: a strong sha1/base64url tag on 200s; If-None-Match with it gives 304 with the 200 fields', async () => {
  const a = app();
  const res = await a.request('/p');
  assert.equal(res.headers.get('etag'), TAG);
  assert.equal(await res.text(), BODY);
  const again = await a.request('/p', { headers: { 'if-none-match': `"other", ${TAG}` } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), '');
  assert.equal(again.headers.get('etag'), TAG);
  assert.equal(again.headers.get('cache-control'), 'max-age=60');
  assert.equal(again.headers.get('vary'), 'Accept');
  assert.equal(again.headers.get('content-length'), null);
  const changed = await a.request('/p', { headers: { 'if-none-match': '"stale"' } });
  assert.equal(changed.status, 200);
  assert.equal(await changed.text(), BODY);
});

test('etag: weak tags, and the weak comparison of RFC 9110 §13.1.2 (W/ ignored, * matches)', async () => {
  const a = app({ weak: true });
  const res = await a.request('/p');
  assert.equal(res.headers.get('etag'), `W/${TAG}`);
  assert.equal((await a.request('/p', { headers: { 'if-none-match': TAG } })).status, 304);
  assert.equal((await a.request('/p', { headers: { 'if-none-match': `W/${TAG}` } })).status, 304);
  assert.equal((await a.request('/p', { headers: { 'if-none-match': '*' } })).status, 304);
  assert.equal(noneMatchFails('W/"a", "b"', '"b"'), true);
  assert.equal(noneMatchFails('"ab"', '"a"'), false);
  assert.equal(noneMatchFails('', '"a"'), false);
});

test('etag: HEAD gets the tag and the 304 like GET', async () => {
  const a = app();
  const head = await a.request('/p', { method: 'HEAD' });
  assert.equal(head.headers.get('etag'), TAG);
  assert.equal((await a.request('/p', { method: 'HEAD', headers: { 'if-none-match': TAG } })).status, 304);
});

test('etag: skipped for non-200, unsafe methods, existing ETag, no-store, empty bodies', async () => {
  const a = app();
  assert.equal((await a.request('/created')).headers.get('etag'), null);
  assert.equal((await a.request('/p', { method: 'POST', headers: { 'if-none-match': '*' } })).status, 200);
  const tagged = await a.request('/tagged', { headers: { 'if-none-match': TAG } });
  assert.equal(tagged.status, 200);
  assert.equal(tagged.headers.get('etag'), '"v1"');
  const nostore = await a.request('/nostore', { headers: { 'if-none-match': '*' } });
  assert.equal(nostore.status, 200);
  assert.equal(nostore.headers.get('etag'), null);
  assert.equal((await a.request('/empty')).headers.get('etag'), null);
  assert.equal((await a.request('/missing')).headers.get('etag'), null);
});

test('etag: a stream within maxSize is hashed; past it the body passes through unchanged, untagged', async () => {
  const small = await app().request('/stream');
  assert.equal(small.headers.get('etag'), `"${createHash('sha1').update('a'.repeat(10) + 'b'.repeat(10) + 'c'.repeat(10)).digest('base64url')}"`);
  const big = await app({ maxSize: 15 }).request('/stream');
  assert.equal(big.headers.get('etag'), null);
  assert.equal(await big.text(), 'a'.repeat(10) + 'b'.repeat(10) + 'c'.repeat(10));
  // Content-Length past the cap: not read at all.
  let pulls = 0;
  const a = createApp();
  a.use(etag({ maxSize: 10 }));
  a.get('/declared', (c) => c.body(new ReadableStream({
    pull(ctl) {
      pulls++;
      ctl.enqueue(new TextEncoder().encode('x'.repeat(20)));
      ctl.close();
    },
  }), { headers: { 'content-length': '20' } }));
  const declared = await a.request('/declared');
  assert.equal(declared.headers.get('etag'), null);
  assert.ok(pulls <= 1); // at most the stream's own start-up pull, never read by etag()
  assert.equal(await declared.text(), 'x'.repeat(20));
});
