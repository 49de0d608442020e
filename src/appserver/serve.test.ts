// Workers serving real apps (Hono, Express 5, a TypeScript fetch app) over their unix sockets,
// and apps that cannot start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { once } from 'node:events';
import { Client } from 'undici';
import { AppLoadError, startAppServer } from './index.ts';
import { SERVER_TIMING_APP, call, callJson, fixture, isAlive, socketFiles, startTestApp, tempDir, waitFor } from './test-helpers.ts';

async function* chunks(count: number, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, 97 + (i % 26));
}

test('a Hono app serves from every worker with a Server-Timing app entry', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('hono-app.ts'), workers: 2 });
  const sockets = app.sockets();
  assert.equal(sockets.length, 2);
  const pids = new Set(app.workers().map((w) => w.pid));
  for (const socket of sockets) {
    const r = await call(socket, '/');
    assert.equal(r.status, 200);
    assert.match(r.body, /^hello from hono \d+$/);
    assert.ok(pids.has(Number(r.body.split(' ').at(-1))));
    assert.match(String(r.headers['server-timing']), /^app;dur=\d+\.\d$/);
  }
  const timed = await call(sockets[0], '/timing');
  assert.match(String(timed.headers['server-timing']), /^db;dur=5, app;dur=\d+\.\d$/);
  const cookies = await call(sockets[1], '/cookies');
  assert.deepEqual(cookies.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
  const req = JSON.parse((await call(sockets[0], '/request', { headers: { host: 'shop.test', 'user-agent': 'ua/1' } })).body);
  assert.deepEqual(req, { url: 'http://shop.test/request', method: 'GET', agent: 'ua/1' });
});

test('an Express 5 app serves with a Server-Timing app entry', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('express-app.ts'), workers: 1 });
  const [socket] = app.sockets();
  const r = await call(socket, '/');
  assert.equal(r.status, 200);
  assert.equal(r.body, `hello from express ${app.workers()[0].pid}`);
  assert.match(String(r.headers['server-timing']), /^app;dur=\d+\.\d$/);
  assert.match(String((await call(socket, '/timing')).headers['server-timing']), /^db;dur=5, app;dur=\d+\.\d$/);
  const created = await call(socket, '/write-head');
  assert.equal(created.status, 201);
  assert.equal(created.headers['x-fixture'], 'express');
  assert.match(String(created.headers['server-timing']), /^cache;desc=miss, app;dur=\d+\.\d$/);
});

test('a TypeScript fetch app gets an absolute URL; its errors answer 500 and the worker lives on', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 1 });
  const [socket] = app.sockets();
  const info = await callJson(socket, '/?x=1');
  assert.equal(info.url, 'http://localhost/?x=1');
  assert.equal(info.pid, app.workers()[0].pid);
  const failed = await call(socket, '/throw', { headers: { 'x-request-id': 'abc-123' } });
  assert.equal(failed.status, 500);
  assert.match(failed.body, /abc-123/);
  assert.match(String(failed.headers['server-timing']), SERVER_TIMING_APP);
  assert.equal((await call(socket, '/not-response')).status, 500);
  assert.equal((await callJson(socket, '/')).pid, info.pid);
});

test('request and response bodies stream through Hono and Express workers', async (t) => {
  for (const module of ['hono-app.ts', 'express-app.ts']) {
    const { app } = await startTestApp(t, { module: fixture(module), workers: 1 });
    const r = await call(app.sockets()[0], '/echo', { method: 'POST', body: chunks(64, 16 * 1024) });
    assert.equal(r.status, 200, module);
    assert.equal(r.body.length, 64 * 16 * 1024, module);
    assert.equal(r.body.slice(16 * 1024 * 25, 16 * 1024 * 25 + 3), 'zzz', module);
    assert.match(String(r.headers['server-timing']), SERVER_TIMING_APP, module);
  }
  // A streamed response: the head arrives while the app is still producing the body.
  const { app } = await startTestApp(t, { module: fixture('hono-app.ts'), workers: 1 });
  const client = new Client('http://localhost', { socketPath: app.sockets()[0] });
  t.after(() => client.close());
  const r = await client.request({ path: '/stream?n=3&gap=100', method: 'GET' });
  const head = performance.now();
  const body = await r.body.text();
  assert.equal(body, 'chunk 0\nchunk 1\nchunk 2\n');
  assert.ok(performance.now() - head >= 150, 'the head waited for the whole body');
});

test('the client aborting a streamed response cancels the app\'s body stream', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 1 });
  const [socket] = app.sockets();
  const client = new Client('http://localhost', { socketPath: socket });
  t.after(() => client.destroy());
  const r = await client.request({ path: '/forever', method: 'GET' });
  await r.body[Symbol.asyncIterator]().next();
  r.body.destroy();
  await waitFor('the app to see the cancel', async () => (await callJson(socket, '/stats')).cancelled === 1);
});

test('an app that throws at import rejects startAppServer with its message, leaving nothing behind', async (t) => {
  const dir = tempDir(t);
  const logs: string[] = [];
  const err = await startAppServer({
    name: 'broken', module: fixture('throws-at-import.ts'), workers: 2, runtimeDir: dir, shutdownTimeout: 1_000,
    log: (_level, msg) => logs.push(msg),
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof AppLoadError, `expected an AppLoadError, got ${String(err)}`);
  assert.match(err.message, /PORTICO_FIXTURE_DATABASE_URL is not set/);
  assert.match(err.appStack ?? '', /throws-at-import\.ts/);
  assert.deepEqual(socketFiles(dir), []);
});

test('a module without a usable default export is a load error', async (t) => {
  const dir = tempDir(t);
  const module = join(dir, 'no-default.mjs');
  writeFileSync(module, 'export const fetch = () => new Response("x");\n');
  await assert.rejects(
    startAppServer({ name: 'nodefault', module, workers: 1, runtimeDir: dir, shutdownTimeout: 1_000, log: () => {} }),
    /export default \{ fetch\(request\) \}.*default export is missing/,
  );
});

test('a socket path over the unix limit fails clearly before forking', async (t) => {
  const dir = join(tempDir(t), 'x'.repeat(120));
  await assert.rejects(
    startAppServer({ name: 'app', module: fixture('fetch-app.ts'), workers: 1, runtimeDir: dir, shutdownTimeout: 1_000, log: () => {} }),
    /socket path is \d+ bytes, over the \d+-byte limit/,
  );
});

test('stop() drains in-flight requests and leaves no worker alive', async (t) => {
  const { app, dir, logs } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 2 });
  const pids = app.workers().map((w) => w.pid);
  const [a, b] = app.sockets();
  // An idle keep-alive connection on one worker (nodejs/node#2642) and a slow request on the other.
  const idle = new Client('http://localhost', { socketPath: a });
  const busy = new Client('http://localhost', { socketPath: b });
  t.after(() => Promise.all([idle.destroy(), busy.destroy()]));
  await (await idle.request({ path: '/', method: 'GET' })).body.text();
  // And a connection that never sends a request, which node's closeIdleConnections() skips.
  const silent = connect(a);
  t.after(() => silent.destroy());
  await once(silent, 'connect');
  const slow = busy.request({ path: '/slow?ms=300', method: 'GET' });
  await waitFor('the slow request to reach the app', async () => (await callJson(b, '/stats')).inflight === 1);
  let changed: string[] | undefined;
  app.once('change', (s: string[]) => (changed = s));
  await app.stop();
  assert.deepEqual(changed, []);
  const r = await slow;
  assert.equal(r.statusCode, 200);
  assert.equal(JSON.parse(await r.body.text()).slept, 300);
  for (const pid of pids) assert.equal(isAlive(pid), false, `worker ${pid} still alive`);
  assert.deepEqual(app.workers(), []);
  assert.deepEqual(socketFiles(dir), []);
  // Every worker exited by itself: none had to be killed after the shutdown timeout.
  assert.deepEqual(logs.filter((l) => l.level !== 'info'), []);
});

test('stop() kills workers still busy after its timeout', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 1 });
  const [w] = app.workers();
  const pending = call(w.socket, '/slow?ms=10000').then(() => 'answered', () => 'cut');
  await waitFor('the slow request to reach the app', async () => (await callJson(w.socket, '/stats')).inflight === 1);
  const started = Date.now();
  await app.stop(300);
  assert.ok(Date.now() - started < 5_000);
  assert.equal(isAlive(w.pid), false);
  assert.equal(await pending, 'cut');
});
