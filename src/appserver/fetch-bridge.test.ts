// The fetch bridge and the Server-Timing stamp, in-process on a unix socket: what a worker does
// with each request, without the process around it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Client } from 'undici';
import { type FetchApp, type NodeListener, createFetchListener } from './fetch-bridge.ts';
import { TimedResponse } from './timed-response.ts';
import { SERVER_TIMING_APP, call, tempDir, waitFor } from './test-helpers.ts';

async function serve(t: TestContext, listener: NodeListener): Promise<string> {
  const socket = join(tempDir(t), 'bridge.sock');
  const server = http.createServer({ ServerResponse: TimedResponse }, listener);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return socket;
}

function fetchApp(t: TestContext, fetch: FetchApp['fetch'], errors: unknown[] = []): Promise<string> {
  return serve(t, createFetchListener({ fetch }, (err) => errors.push(err)));
}

async function* chunks(count: number, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, 97 + (i % 26));
}

test('the Request carries method, absolute URL from Host, headers and a streamed body', async (t) => {
  let seen: { url: string; method: string; header: string | null; body: string } | undefined;
  const socket = await fetchApp(t, async (req) => {
    seen = { url: req.url, method: req.method, header: req.headers.get('x-test'), body: await req.text() };
    return new Response('ok');
  });
  const r = await call(socket, '/path?q=1', { method: 'PUT', headers: { host: 'shop.example:8080', 'x-test': 'yes' }, body: 'payload' });
  assert.equal(r.status, 200);
  assert.deepEqual(seen, { url: 'http://shop.example:8080/path?q=1', method: 'PUT', header: 'yes', body: 'payload' });
});

test('a buffered body goes out with Content-Length, a stream goes out head first', async (t) => {
  let release: (() => void) | undefined;
  const socket = await fetchApp(t, (req) => {
    if (new URL(req.url).pathname === '/buffered') return new Response('twelve bytes');
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('first\n'));
        await new Promise<void>((resolve) => (release = resolve));
        controller.enqueue(new TextEncoder().encode('second\n'));
        controller.close();
      },
    });
    return new Response(body, { status: 207, headers: { 'x-kind': 'stream' } });
  });
  const buffered = await call(socket, '/buffered');
  assert.equal(buffered.headers['content-length'], '12');
  assert.match(String(buffered.headers['server-timing']), SERVER_TIMING_APP);

  const client = new Client('http://localhost', { socketPath: socket });
  t.after(() => client.close());
  // The head and first chunk arrive while the app still holds the rest: nothing waits for the end.
  const r = await client.request({ path: '/stream', method: 'GET' });
  assert.equal(r.statusCode, 207);
  assert.equal(r.headers['x-kind'], 'stream');
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  const it = r.body[Symbol.asyncIterator]();
  assert.equal(String((await it.next()).value), 'first\n');
  assert.ok(release);
  release();
  let rest = '';
  for (let c = await it.next(); !c.done; c = await it.next()) rest += String(c.value);
  assert.equal(rest, 'second\n');
});

test('request and response bodies stream through with backpressure', async (t) => {
  const socket = await fetchApp(t, (req) => new Response(req.body));
  const r = await call(socket, '/echo', { method: 'POST', body: chunks(64, 16 * 1024) });
  assert.equal(r.status, 200);
  assert.equal(r.body.length, 64 * 16 * 1024);
  assert.equal(r.body.slice(16 * 1024 * 25, 16 * 1024 * 25 + 3), 'zzz');
});

test('multiple Set-Cookie headers stay separate', async (t) => {
  const socket = await fetchApp(t, () => {
    const headers = new Headers();
    headers.append('set-cookie', 'a=1; Path=/');
    headers.append('set-cookie', 'b=2; HttpOnly');
    return new Response(null, { status: 204, headers });
  });
  const r = await call(socket, '/');
  assert.equal(r.status, 204);
  assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; HttpOnly']);
});

test('a framework response goes out whole: status, its fields, every cookie and the body', async (t) => {
  const { createApp } = await import('../framework/index.ts');
  const app = createApp();
  app.use(async (c, next) => {
    await next();
    c.res!.headers.set('x-after', 'yes');
  });
  app.get('/', (c) => {
    c.setCookie('a', '1');
    c.setCookie('b', '2');
    return c.json({ ok: 'héllo' }, 201);
  });
  const socket = await fetchApp(t, app.fetch);
  const r = await call(socket, '/');
  assert.equal(r.status, 201);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(r.headers['x-after'], 'yes');
  assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
  assert.equal(r.headers['content-length'], String(Buffer.byteLength('{"ok":"héllo"}')));
  assert.equal(r.body, '{"ok":"héllo"}');
});

test('a client that goes away cancels the response body', async (t) => {
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  const socket = await fetchApp(t, () => new Response(new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setInterval(() => controller.enqueue(new TextEncoder().encode('tick\n')), 5);
    },
    cancel() {
      clearInterval(timer);
      cancelled = true;
    },
  })));
  const client = new Client('http://localhost', { socketPath: socket });
  t.after(() => client.destroy());
  const r = await client.request({ path: '/', method: 'GET' });
  await r.body[Symbol.asyncIterator]().next();
  r.body.destroy();
  await waitFor('the body to be cancelled', () => cancelled);
  clearInterval(timer);
});

test('a fetch that throws or returns a non-Response answers 500 with the request id', async (t) => {
  const errors: unknown[] = [];
  const socket = await fetchApp(t, (req) => {
    if (new URL(req.url).pathname === '/throw') throw new Error('boom');
    return 'not a response' as unknown as Response;
  }, errors);
  const thrown = await call(socket, '/throw', { headers: { 'x-request-id': 'req-42' } });
  assert.equal(thrown.status, 500);
  assert.match(thrown.headers['content-type'] as string, /^text\/plain/);
  assert.match(thrown.body, /req-42/);
  assert.match(String(thrown.headers['server-timing']), SERVER_TIMING_APP);
  const wrong = await call(socket, '/wrong');
  assert.equal(wrong.status, 500);
  assert.doesNotMatch(wrong.body, /request id/);
  assert.equal(errors.length, 2);
  assert.match(String(errors[1]), /instead of a Response/);
});

test('Server-Timing: app;dur is appended to what a Node listener set, even through writeHead', async (t) => {
  const socket = await serve(t, (req, res) => {
    if (req.url === '/array') {
      res.setHeader('server-timing', 'edge;dur=1');
      res.writeHead(200, 'Fine', ['server-timing', 'db;dur=2', 'x-a', 'b']);
    } else {
      res.setHeader('server-timing', 'cache;desc=miss');
      res.writeHead(201, { 'x-a': 'b' });
    }
    res.end('done');
  });
  const obj = await call(socket, '/object');
  assert.equal(obj.status, 201);
  assert.equal(obj.headers['x-a'], 'b');
  assert.match(String(obj.headers['server-timing']), /^cache;desc=miss, app;dur=\d+\.\d$/);
  const arr = await call(socket, '/array');
  assert.equal(arr.headers['x-a'], 'b');
  assert.match(String(arr.headers['server-timing']), /^edge;dur=1, db;dur=2, app;dur=\d+\.\d$/);
});
