import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyLimit, createApp } from '../index.ts';

function chunked(parts: number[], onCancel?: () => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(ctl) {
      if (i < parts.length) ctl.enqueue(new Uint8Array(parts[i++]).fill(0x61));
      else ctl.close();
    },
    cancel() {
      onCancel?.();
    },
  });
}

function app(maxSize: number) {
  const a = createApp();
  a.use(bodyLimit({ maxSize }));
  a.post('/text', async (c) => c.text(`got ${(await c.req.text()).length}`));
  a.post('/json', async (c) => c.json(await c.bodyJson()));
  a.post('/swallow', async (c) => {
    try {
      await c.req.arrayBuffer();
    } catch {
      return c.text('handled', 400);
    }
    return c.text('read');
  });
  a.get('/', (c) => c.text('ok'));
  return a;
}

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  ({ method: 'POST', body, headers, duplex: 'half' }) as RequestInit;

test('bodyLimit: Content-Length over the cap is 413 before the handler runs', async () => {
  let ran = false;
  const a = createApp();
  a.use(bodyLimit({ maxSize: 10 }));
  a.post('/', (c) => {
    ran = true;
    return c.text('no');
  });
  // In-process Requests carry no Content-Length of their own; over a socket the server sets it.
  const res = await a.request('/', post('x'.repeat(11), { 'content-length': '11' }));
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error.code, 'PAYLOAD_TOO_LARGE');
  assert.equal(ran, false);
  const bad = await a.request('/', post('x', { 'content-length': '1x' }));
  assert.equal(bad.status, 400);
});

test('bodyLimit: at the cap passes, through the handler\'s own parsing', async () => {
  const a = app(10);
  assert.equal(await (await a.request('/text', post('x'.repeat(10)))).text(), 'got 10');
  assert.equal(await (await a.request('/text', post(chunked([5, 5])))).text(), 'got 10');
  assert.equal((await a.request('/', {})).status, 200);
});

test('bodyLimit: a streamed body without Content-Length stops at the cap with 413, the upload cancelled', async () => {
  let cancelled = false;
  const a = app(10);
  const res = await a.request('/text', post(chunked([6, 6, 6, 6], () => (cancelled = true))));
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error.code, 'PAYLOAD_TOO_LARGE');
  assert.equal(cancelled, true);
  const json = await a.request('/json', post(chunked([6, 6]), { 'content-type': 'application/json' }));
  assert.equal(json.status, 413);
});

test('bodyLimit: a handler that swallows the read error still answers 413', async () => {
  const res = await app(10).request('/swallow', post(chunked([8, 8])));
  assert.equal(res.status, 413);
});

test('bodyLimit: rejects a bad maxSize at construction', () => {
  assert.throws(() => bodyLimit({ maxSize: -1 }), TypeError);
  assert.throws(() => bodyLimit({ maxSize: 1.5 }), TypeError);
});

test('bodyLimit: after a middleware that already read the body, the kept bytes are checked', async () => {
  const a = createApp();
  a.use(async function readsForm(c, next) {
    await c.bodyForm();
    await next();
  });
  a.use(bodyLimit({ maxSize: 10 }));
  a.post('/', async (c) => c.text(String((await c.bodyForm()).get('a'))));
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  assert.equal(await (await a.request('/', post('a=aaa', form))).text(), 'aaa');
  assert.equal((await a.request('/', post(`a=${'x'.repeat(20)}`, form))).status, 413);
});

test('bodyLimit over a real socket: a chunked upload past the cap gets 413 and the worker stops reading', async (t) => {
  const { default: http } = await import('node:http');
  const { request } = await import('undici');
  const { Readable } = await import('node:stream');
  const { createFetchListener } = await import('../../appserver/fetch-bridge.ts');
  let received = 0;
  const a = createApp();
  a.use(bodyLimit({ maxSize: 64 * 1024 }));
  a.post('/upload', async (c) => {
    const reader = c.req.body!.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) received += r.value.byteLength;
    return c.text('stored');
  });
  const server = http.createServer(createFetchListener(a, () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const { port } = server.address() as { port: number };
  async function* body(chunks: number) {
    for (let i = 0; i < chunks; i++) yield Buffer.alloc(16 * 1024, 0x61);
  }
  const url = `http://127.0.0.1:${port}/upload`;
  const ok = await request(url, { method: 'POST', body: Readable.from(body(4)) }); // exactly the cap, chunked
  assert.equal(ok.statusCode, 200);
  assert.equal(await ok.body.text(), 'stored');
  received = 0;
  const res = await request(url, { method: 'POST', body: Readable.from(body(64)) }); // 1 MiB, chunked
  assert.equal(res.statusCode, 413);
  assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
  assert.ok(received <= 64 * 1024, `handler saw ${received} bytes`);
});
