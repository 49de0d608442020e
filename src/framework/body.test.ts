import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from './index.ts';

function jsonApp(limit?: number) {
  const app = createApp();
  app.post('/echo', async (c) => c.json({ got: await c.bodyJson(limit === undefined ? undefined : { limit }) }));
  return app;
}

/** An endless body, one 1 KiB chunk per pull; reports how much was pulled and whether it was cancelled. */
function endless() {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulled += 1024;
      controller.enqueue(new Uint8Array(1024).fill(0x20));
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

test('JSON body parsed', async () => {
  const res = await jsonApp().request('/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ a: [1, 2] }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { got: { a: [1, 2] } });
});

test('+json media types are JSON too (RFC 6839)', async () => {
  const res = await jsonApp().request('/echo', {
    method: 'POST', headers: { 'content-type': 'application/merge-patch+json' }, body: '{"x":1}',
  });
  assert.equal(res.status, 200);
});

test('415 when the Content-Type is not JSON, or missing', async () => {
  const app = jsonApp();
  const res = await app.request('/echo', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
  assert.equal(res.status, 415);
  const body = await res.json();
  assert.equal(body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
  assert.match(body.error.message, /expected a JSON body, got text\/plain/);
  const none = await app.request('/echo', { method: 'POST', body: new Uint8Array([123, 125]) });
  assert.equal(none.status, 415);
});

test('400 for malformed JSON, with the parser\'s reason', async () => {
  const res = await jsonApp().request('/echo', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a": tru',
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error.code, 'INVALID_JSON');
  assert.match(body.error.message, /^invalid JSON: .*(Unexpected|JSON)/);
});

test('400 for a body that is not UTF-8', async () => {
  const res = await jsonApp().request('/echo', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array([0x22, 0xff, 0x22]),
  });
  assert.equal(res.status, 400);
  assert.match((await res.json()).error.message, /not valid UTF-8/);
});

test('413 from Content-Length alone, before any byte is read', async () => {
  const { stream, state } = endless();
  const res = await jsonApp(100).request('/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': '5000' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.equal(res.status, 413);
  assert.match((await res.json()).error.message, /Content-Length is 5000 bytes; the limit is 100 bytes/);
  assert.equal(state.pulled, 0);
});

test('413 on a streamed body without Content-Length, cancelled just past the limit', async () => {
  const { stream, state } = endless();
  const res = await jsonApp(10 * 1024).request('/echo', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half',
  } as RequestInit);
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error.code, 'PAYLOAD_TOO_LARGE');
  assert.ok(state.pulled <= 12 * 1024, `read ${state.pulled} bytes for a 10 KiB limit`);
  assert.equal(state.cancelled, true);
});

test('the default limit is 1 MiB; the app can change it', async () => {
  const big = JSON.stringify('x'.repeat(1024 * 1024));
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: big };
  assert.equal((await jsonApp().request('/echo', init)).status, 413);
  const roomy = createApp({ bodyLimit: 2 * 1024 * 1024 });
  roomy.post('/echo', async (c) => c.json({ n: ((await c.bodyJson()) as string).length }));
  assert.equal((await roomy.request('/echo', init)).status, 200);
});

test('400 for a Content-Length that is not a number', async () => {
  const res = await jsonApp().request('/echo', {
    method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '1e3' }, body: '{}',
  });
  assert.equal(res.status, 400);
});

test('the body can be read twice (validator, then handler); a smaller second limit still applies', async () => {
  const app = createApp();
  app.post('/twice', async (c) => {
    const a = await c.bodyJson();
    const b = await c.bodyJson();
    await assert.rejects(c.bodyJson({ limit: 2 }), { status: 413 });
    return c.json({ same: JSON.stringify(a) === JSON.stringify(b) });
  });
  const res = await app.request('/twice', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"k":1}' });
  assert.deepEqual(await res.json(), { same: true });
});

test('forms: urlencoded and multipart; 415 for JSON', async () => {
  const app = createApp();
  app.post('/form', async (c) => {
    const f = await c.bodyForm();
    return c.json({ name: f.get('name'), tags: f.getAll('tag') });
  });
  const url = await app.request('/form', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=a+b&tag=x&tag=y',
  });
  assert.deepEqual(await url.json(), { name: 'a b', tags: ['x', 'y'] });
  const fd = new FormData();
  fd.set('name', 'multi');
  const multi = await app.request('/form', { method: 'POST', body: fd });
  assert.deepEqual(await multi.json(), { name: 'multi', tags: [] });
  const wrong = await app.request('/form', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(wrong.status, 415);
});
