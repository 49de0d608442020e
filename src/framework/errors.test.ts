import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, NotFoundError, ServiceUnavailableError, HttpError } from './index.ts';

function boom(dev?: boolean) {
  const app = createApp(dev === undefined ? {} : { dev });
  app.get('/boom', () => {
    throw new Error('database password is hunter2');
  });
  return app;
}

test('a thrown HttpError becomes its status, code, message and headers', async (t) => {
  t.mock.method(console, 'error', () => {});
  const app = createApp();
  app.get('/p/:id', (c) => {
    throw new NotFoundError(`no product ${c.params.id}`, 'PRODUCT_NOT_FOUND');
  });
  app.get('/busy', () => {
    throw new ServiceUnavailableError('try later', undefined, { headers: { 'retry-after': '5' } });
  });
  const res = await app.request('/p/9', { headers: { 'x-request-id': 'r-9' } });
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.deepEqual(await res.json(), { error: { status: 404, code: 'PRODUCT_NOT_FOUND', message: 'no product 9', requestId: 'r-9' } });
  const busy = await app.request('/busy');
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get('retry-after'), '5');
});

test('an HttpError marked not exposable hides its message', async (t) => {
  t.mock.method(console, 'error', () => {});
  const app = createApp();
  app.get('/', () => {
    throw new HttpError(502, 'UPSTREAM', 'upstream 10.0.0.3 refused', { expose: false });
  });
  const body = await (await app.request('/')).json();
  assert.equal(body.error.message, 'Bad Gateway');
});

test('production: a 500 with the request id, no message, no stack; logged with the id', async (t) => {
  const logged = t.mock.method(console, 'error', () => {});
  const res = await boom(false).request('/boom', { headers: { 'x-request-id': 'req-500' } });
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.deepEqual(JSON.parse(text), { error: { status: 500, code: 'INTERNAL', message: 'Internal Server Error', requestId: 'req-500' } });
  assert.doesNotMatch(text, /hunter2|at /);
  assert.equal(logged.mock.callCount(), 1);
  const args = logged.mock.calls[0].arguments;
  assert.match(String(args[0]), /req-500 GET \/boom/);
  assert.match(String((args[1] as Error).message), /hunter2/);
});

test('development: the 500 includes the stack, as JSON or as a page for browsers', async (t) => {
  t.mock.method(console, 'error', () => {});
  const app = boom(true);
  const json = await (await app.request('/boom')).json();
  assert.match(json.error.stack, /database password is hunter2\n\s+at /);
  const page = await app.request('/boom', { headers: { accept: 'text/html,application/xhtml+xml' } });
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(await page.text(), /<pre>Error: database password is hunter2/);
});

test('NODE_ENV=development turns dev mode on; anything else leaves it off', async (t) => {
  t.mock.method(console, 'error', () => {});
  const saved = process.env.NODE_ENV;
  try {
    process.env.NODE_ENV = 'development';
    assert.equal(createApp().dev, true);
    assert.ok((await (await boom().request('/boom')).json()).error.stack);
    process.env.NODE_ENV = 'production';
    assert.equal(createApp().dev, false);
    assert.equal((await (await boom().request('/boom')).json()).error.stack, undefined);
  } finally {
    process.env.NODE_ENV = saved;
  }
});

test('app.onError overrides; if it throws, the default answers', async (t) => {
  t.mock.method(console, 'error', () => {});
  const app = boom(false);
  app.onError((err, c) => c.json({ custom: (err as Error).message }, 503));
  const res = await app.request('/boom');
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { custom: 'database password is hunter2' });

  const broken = boom(false);
  broken.onError(() => {
    throw new Error('handler bug');
  });
  assert.equal((await broken.request('/boom')).status, 500);
});

test('app.notFound overrides the 404, also for c.notFound()', async () => {
  const app = createApp();
  app.notFound((c) => c.text(`nothing at ${c.path}`, 404));
  app.get('/p/:id', (c) => (c.params.id === '1' ? c.text('one') : c.notFound()));
  assert.equal(await (await app.request('/zzz')).text(), 'nothing at /zzz');
  assert.equal(await (await app.request('/p/2')).text(), 'nothing at /p/2');
  assert.equal(await (await app.request('/p/1')).text(), 'one');
});

test('errors thrown in middleware are answered the same way', async () => {
  const app = createApp();
  app.use(async function gate() {
    throw new HttpError(401, 'NO_TOKEN', 'token required', { headers: { 'www-authenticate': 'Bearer' } });
  });
  app.get('/', (c) => c.text('x'));
  const res = await app.request('/');
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await res.json()).error.code, 'NO_TOKEN');
});
