import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, requestLogger, type RequestLogEntry } from '../index.ts';

test('requestLogger: one line per request with method, path, status, duration and request id', async () => {
  const lines: string[] = [];
  const app = createApp();
  app.use(requestLogger({ log: (l) => lines.push(l) }));
  app.get('/api/products', (c) => c.json([]));
  await app.request('/api/products?x=1', { headers: { 'x-request-id': 'req-abc123' } });
  await app.request('/missing');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^GET \/api\/products 200 \d+\.\d{2}ms id=req-abc123$/);
  assert.match(lines[1], /^GET \/missing 404 \d+\.\d{2}ms id=\S+$/);
});

test('requestLogger: logs the 500 a throwing handler becomes, and takes a format', async () => {
  const entries: RequestLogEntry[] = [];
  const app = createApp();
  app.use(requestLogger({ log: (l) => entries.push(JSON.parse(l)), format: (e) => JSON.stringify(e) }));
  app.post('/boom', () => {
    throw new Error('kaput');
  });
  const res = await app.request('/boom', { method: 'POST' });
  assert.equal(res.status, 500);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].method, 'POST');
  assert.equal(entries[0].status, 500);
  assert.ok(entries[0].durationMs >= 0);
  // The id in the log is the one in the error body, so a user's report can be found.
  assert.equal((await res.json()).error.requestId, entries[0].requestId);
});

test('requestLogger: silent under NODE_ENV=test without a log function, and still passes on', async (t) => {
  const calls: unknown[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => calls.push(a));
  const before = process.env.NODE_ENV;
  process.env.NODE_ENV = 'test';
  try {
    const app = createApp();
    app.use(requestLogger());
    app.get('/', (c) => c.text('ok'));
    assert.equal(await (await app.request('/')).text(), 'ok');
  } finally {
    process.env.NODE_ENV = before;
  }
  assert.equal(calls.length, 0);
});

test('requestLogger: defaults to console.log outside tests', async (t) => {
  const calls: unknown[][] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => calls.push(a));
  const before = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  let app;
  try {
    app = createApp();
    app.use(requestLogger());
  } finally {
    process.env.NODE_ENV = before;
  }
  app.get('/', (c) => c.text('ok'));
  await app.request('/');
  assert.equal(calls.length, 1);
  assert.match(String(calls[0][0]), /^GET \/ 200 /);
});
