// The lazy Response against the native one it stands for: the same answers to every question a
// caller can ask, before and after the native Response is made behind it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lazyResponse, canBeLazy } from './lazy-response.ts';
import { createApp } from './index.ts';

const TYPE = { 'content-type': 'text/plain;charset=UTF-8' };
const SOURCE = 'héllo ✓ {"a":1}';

/** A lazy and a native response of the same arguments. */
function pair(source = SOURCE, status = 200): [Response, Response] {
  return [lazyResponse(source, status, TYPE), new Response(source, { status, headers: TYPE })];
}

test('it is a Response and answers the plain questions as the native one does', () => {
  for (const status of [200, 201, 404, 500, 599]) {
    const [lazy, native] = pair(SOURCE, status);
    assert.ok(lazy instanceof Response);
    assert.equal(Object.prototype.toString.call(lazy), '[object Response]');
    for (const key of ['status', 'ok', 'statusText', 'type', 'url', 'redirected', 'bodyUsed'] as const) {
      assert.equal(lazy[key], native[key], `${key} at ${status}`);
    }
    assert.deepEqual([...lazy.headers], [...native.headers]);
  }
});

test('each way of reading the body gives the native bytes, once', async () => {
  const reads: [string, (r: Response) => Promise<unknown>][] = [
    ['text', (r) => r.text()],
    ['arrayBuffer', async (r) => [...new Uint8Array(await r.arrayBuffer())]],
    ['bytes', async (r) => [...await r.bytes()]],
    ['blob', async (r) => (await r.blob()).text()],
    ['body', async (r) => new Response(r.body).text()],
  ];
  for (const [name, readIt] of reads) {
    const [lazy, native] = pair();
    assert.deepEqual(await readIt(lazy), await readIt(native), name);
    assert.equal(lazy.bodyUsed, true, `${name}: used`);
    await assert.rejects(lazy.text(), TypeError, `${name}: a second read is refused`);
    assert.throws(() => lazy.clone(), TypeError, `${name}: no clone of a used body`);
  }
  const [lazy] = pair('{"a":[1,2]}');
  assert.deepEqual(await lazy.json(), { a: [1, 2] });
  await assert.rejects(lazyResponse('{nope', 200, TYPE).json(), SyntaxError);
});

test('a body read through text() shows as used on the stream made afterwards', async () => {
  const [lazy] = pair();
  await lazy.text();
  const stream = lazy.body!;
  assert.ok(stream instanceof ReadableStream);
  assert.equal(lazy.bodyUsed, true);
  assert.throws(() => stream.getReader(), TypeError, 'locked by the read that used it');
});

test('clone() gives an independent response with its own copy of the fields', async () => {
  const [lazy] = pair();
  lazy.headers.set('x-a', '1');
  const copy = lazy.clone();
  copy.headers.set('x-a', '2');
  assert.equal(lazy.headers.get('x-a'), '1');
  assert.equal(await copy.text(), SOURCE);
  assert.equal(await lazy.text(), SOURCE);
  // Cloned after the native response exists: the native clone.
  const [made] = pair();
  void made.body;
  assert.equal(await made.clone().text(), SOURCE);
});

test('one Headers object for the whole life of the response', async () => {
  const [lazy] = pair();
  const h = lazy.headers;
  void lazy.body; // the native Response is made now
  h.set('x-late', 'kept');
  assert.equal(lazy.headers, h);
  assert.equal(lazy.headers.get('x-late'), 'kept');
  // As a ResponseInit (what a middleware re-wrapping the body does): status and fields carry over.
  const wrapped = new Response(lazy.body, lazyResponse('', 201, TYPE));
  assert.equal(wrapped.status, 201);
  assert.equal(wrapped.headers.get('content-type'), TYPE['content-type']);
  assert.equal(await wrapped.text(), SOURCE);
});

test('where the native constructor throws, the helpers still throw: no lazy stand-in', async () => {
  for (const status of [204, 205, 304, 100, 199, 600, 200.5]) assert.equal(canBeLazy(status), false, String(status));
  const app = createApp();
  app.get('/no-content', (c) => c.text('x', 204));
  app.get('/bad-field', (c) => c.json({}, 200, { 'x-a': 'bad\nvalue' }));
  app.get('/empty', (c) => c.json(undefined));
  assert.equal((await app.request('/no-content')).status, 500);
  assert.equal((await app.request('/bad-field')).status, 500);
  const empty = await app.request('/empty');
  assert.equal(empty.status, 200);
  assert.equal(empty.body, null, 'JSON of undefined is no body, as natively');
});

test('under an adapter that installs its own global Response, the helpers make that one', async () => {
  const original = globalThis.Response;
  class Installed extends original {}
  globalThis.Response = Installed;
  try {
    const app = createApp();
    app.get('/', (c) => c.text('hi'));
    const res = await app.request('/');
    assert.ok(res instanceof Installed, 'the installed class, not a lazy stand-in');
    assert.equal(await res.text(), 'hi');
  } finally {
    globalThis.Response = original;
  }
  assert.equal(canBeLazy(200), true);
});
