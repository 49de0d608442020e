import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp, timing } from '../index.ts';

const ENTRY = /^mw;dur=(\d+\.\d{2}), controller;dur=(\d+\.\d{2})$/;

test('timing: mw covers the middleware before the handler, controller the handler', async () => {
  const app = createApp();
  app.use(timing());
  app.use(async function slowAuth(_c, next) {
    await sleep(30); // a measured delay, not a wait for an event
    await next();
  });
  app.get('/', async (c) => {
    await sleep(30);
    return c.text('ok');
  });
  const res = await app.request('/');
  const m = ENTRY.exec(res.headers.get('server-timing') ?? '');
  assert.ok(m, res.headers.get('server-timing') ?? 'no header');
  assert.ok(Number(m[1]) >= 25, `mw ${m[1]}`);
  assert.ok(Number(m[2]) >= 25, `controller ${m[2]}`);
});

test('timing: appended after an existing Server-Timing, also on immutable responses', async () => {
  const app = createApp();
  app.use(timing());
  app.get('/r', () => Response.redirect('http://localhost/x', 302));
  app.get('/h', (c) => c.text('ok', 200, { 'server-timing': 'db;dur=3' }));
  const r = await app.request('/r');
  assert.equal(r.status, 302);
  assert.match(r.headers.get('server-timing')!, ENTRY);
  assert.match((await app.request('/h')).headers.get('server-timing')!, /^db;dur=3, mw;dur=[\d.]+, controller;dur=[\d.]+$/);
});

test('timing: a middleware that answers gives only mw; a throwing handler is still timed; 404s too', async () => {
  const app = createApp();
  app.use(timing());
  const admin = app.group('/admin');
  admin.use((c) => c.text('no', 401));
  admin.get('/x', (c) => c.text('never'));
  app.get('/boom', () => {
    throw new Error('x');
  });
  assert.match((await app.request('/admin/x')).headers.get('server-timing')!, /^mw;dur=[\d.]+$/);
  const boom = await app.request('/boom');
  assert.equal(boom.status, 500);
  assert.match(boom.headers.get('server-timing')!, ENTRY);
  assert.match((await app.request('/nope')).headers.get('server-timing')!, ENTRY);
});

test('timing: apps without it get no header', async () => {
  const app = createApp();
  app.get('/', (c) => c.text('ok'));
  assert.equal((await app.request('/')).headers.get('server-timing'), null);
});

test('built-in middlewares are listed by name in app.middleware()', async () => {
  const { bodyLimit, cors, csrf, etag, requestLogger } = await import('../index.ts');
  const app = createApp();
  app.use(timing()).use(requestLogger({ log: () => {} })).use(cors()).use(bodyLimit({ maxSize: 1 })).use(csrf());
  app.get('/p', etag(), (c) => c.text('x'));
  assert.deepEqual(app.middleware('/p').map((m) => `${m.scope} ${m.name}`),
    ['global timing', 'global requestLogger', 'global cors', 'global bodyLimit', 'global csrf', 'route etag']);
  for (const m of app.middleware('/p')) assert.match(m.addedAt, /timing\.test\.ts:\d+$/);
});
