import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from './index.ts';

test('GET with typed params, query and the response helpers', async () => {
  const app = createApp();
  app.get('/products/:id/files/*path', (c) => {
    const id: string = c.params.id;
    const path: string = c.params.path;
    // @ts-expect-error: not a param of this route
    void c.params.nope;
    return c.json({ id, path, q: c.query.get('q') });
  });
  const res = await app.request('/products/7/files/a/b.txt?q=x%20y');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.deepEqual(await res.json(), { id: '7', path: 'a/b.txt', q: 'x y' });
});

test('text, html, redirect, body, and headers passed to a helper', async () => {
  const app = createApp();
  app.get('/t', (c) => c.text('hi', 201, { 'x-a': '1' }));
  app.get('/h', (c) => c.html('<p>hi</p>'));
  app.get('/r', (c) => c.redirect('/t'));
  app.get('/b', (c) => c.body(new Uint8Array([1, 2, 3]), { headers: { 'content-type': 'application/octet-stream' } }));
  const t = await app.request('/t');
  assert.equal(t.status, 201);
  assert.equal(t.headers.get('x-a'), '1');
  assert.equal(t.headers.get('content-type'), 'text/plain;charset=UTF-8');
  assert.equal(await t.text(), 'hi');
  // The default status and no headers take Fetch's own default type: the same spelling.
  app.get('/plain', (c) => c.text('plain'));
  const p = await app.request('/plain');
  assert.equal(p.status, 200);
  assert.equal(p.headers.get('content-type'), 'text/plain;charset=UTF-8');
  assert.equal(await p.text(), 'plain');
  assert.equal((await app.request('/h')).headers.get('content-type'), 'text/html; charset=utf-8');
  const r = await app.request('/r');
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/t');
  assert.deepEqual(new Uint8Array(await (await app.request('/b')).arrayBuffer()), new Uint8Array([1, 2, 3]));
});

test('HEAD runs the GET handler and drops the body, keeping the headers', async () => {
  const app = createApp();
  let calls = 0;
  app.get('/a', (c) => {
    calls++;
    return c.text('hello', 200, { 'content-length': '5', 'x-h': 'y' });
  });
  const res = await app.request('/a', { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(calls, 1);
  assert.equal(res.headers.get('content-length'), '5');
  assert.equal(res.headers.get('x-h'), 'y');
  assert.equal(await res.text(), '');
  // Without a declared length, a body whose size the helpers know gets its Content-Length in bytes.
  app.get('/utf8', (c) => c.text('héllo ✓'));
  app.get('/json', (c) => c.json({ a: 'ä' }, 201));
  const utf8 = await app.request('/utf8', { method: 'HEAD' });
  assert.equal(utf8.headers.get('content-length'), '10');
  assert.equal(utf8.headers.get('content-type'), 'text/plain;charset=UTF-8');
  assert.equal(utf8.body, null);
  const json = await app.request('/json', { method: 'HEAD' });
  assert.equal(json.status, 201);
  assert.equal(json.headers.get('content-length'), String(Buffer.byteLength('{"a":"ä"}')));
});

test('OPTIONS answers 204 with Allow; an own OPTIONS route wins', async () => {
  const app = createApp();
  app.get('/a', (c) => c.text('a'));
  app.post('/a', (c) => c.text('a'));
  app.options('/b', (c) => c.text('custom'));
  const res = await app.request('/a', { method: 'OPTIONS' });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS, POST');
  assert.equal(await (await app.request('/b', { method: 'OPTIONS' })).text(), 'custom');
});

test('405 with Allow and the error body; 404 when no path matches', async () => {
  const app = createApp();
  app.get('/a', (c) => c.text('a'));
  const res = await app.request('/a', { method: 'DELETE', headers: { 'x-request-id': 'req-1' } });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS');
  assert.deepEqual(await res.json(), {
    error: { status: 405, code: 'METHOD_NOT_ALLOWED', message: 'DELETE is not allowed on /a', requestId: 'req-1' },
  });
  const nf = await app.request('/nope');
  assert.equal(nf.status, 404);
  const body = await nf.json();
  assert.equal(body.error.code, 'NOT_FOUND');
  assert.match(body.error.requestId, /^[0-9a-f-]{36}$/);
});

test('trailing-slash redirect is a 308 that keeps the query', async () => {
  const app = createApp();
  app.post('/a', (c) => c.text('a'));
  const res = await app.request('/a/?x=1&y=%20', { method: 'POST' });
  assert.equal(res.status, 308);
  assert.equal(res.headers.get('location'), '/a?x=1&y=%20');
  const strict = createApp({ trailingSlash: 'strict' });
  strict.get('/a', (c) => c.text('a'));
  assert.equal((await strict.request('/a/')).status, 404);
});

test('case-insensitive apps match any case', async () => {
  const app = createApp({ case: 'insensitive' });
  app.get('/Products/:id', (c) => c.text(c.params.id));
  assert.equal(await (await app.request('/PRODUCTS/AbC')).text(), 'AbC');
});

test('groups prefix their routes, nest, and type their prefix params', async () => {
  const app = createApp();
  app.group('/shops/:shop', (shop) => {
    shop.get('/', (c) => c.text(`shop ${c.params.shop}`));
    shop.group('/items', (items) => {
      items.get('/:id', (c) => c.text(`${c.params.shop}/${c.params.id}`));
    });
  });
  assert.equal(await (await app.request('/shops/s1')).text(), 'shop s1');
  assert.equal(await (await app.request('/shops/s1/items/9')).text(), 's1/9');
  assert.deepEqual(app.routes(), [
    { method: 'GET', path: '/shops/:shop' },
    { method: 'GET', path: '/shops/:shop/items/:id' },
  ]);
});

test('all(), on() with several methods, routes() listing', async () => {
  const app = createApp();
  app.all('/any', (c) => c.text(c.req.method));
  app.on(['PUT', 'PATCH'], '/x', (c) => c.text('x'));
  assert.equal(await (await app.request('/any', { method: 'PATCH' })).text(), 'PATCH');
  assert.equal((await app.request('/x', { method: 'PATCH' })).status, 200);
  assert.deepEqual(app.routes(), [
    { method: 'ALL', path: '/any' },
    { method: 'PUT', path: '/x' },
    { method: 'PATCH', path: '/x' },
  ]);
});

test('fetch is bound, and request() takes a Request or an absolute URL', async () => {
  const app = createApp();
  app.get('/a', (c) => c.text(new URL(c.req.url).host));
  const { fetch } = app;
  assert.equal(await (await fetch(new Request('http://example.test/a'))).text(), 'example.test');
  assert.equal(await (await app.request('http://h.test/a')).text(), 'h.test');
  assert.equal(await (await app.request(new Request('http://r.test/a'))).text(), 'r.test');
});

test('request id: taken from X-Request-Id when sane, made otherwise', async () => {
  const app = createApp();
  app.get('/id', (c) => c.text(c.requestId));
  assert.equal(await (await app.request('/id', { headers: { 'x-request-id': 'abc-123' } })).text(), 'abc-123');
  const made = await (await app.request('/id', { headers: { 'x-request-id': 'bad id with spaces' } })).text();
  assert.match(made, /^[0-9a-f-]{36}$/);
});

test('c.set/get and c.header', async () => {
  const app = createApp();
  app.use(async function user(c, next) {
    c.set('user', c.header('x-user') ?? 'anon');
    await next();
  });
  app.get('/me', (c) => c.text(c.get<string>('user')!));
  assert.equal(await (await app.request('/me', { headers: { 'x-user': 'ada' } })).text(), 'ada');
  assert.equal(await (await app.request('/me')).text(), 'anon');
});

test('a fragment or a "?" inside it does not leak into the path or query', async () => {
  const app = createApp();
  app.get('/a', (c) => c.json({ path: c.path, q: [...c.query] }));
  assert.deepEqual(await (await app.request('http://localhost/a#x?y=1')).json(), { path: '/a', q: [] });
  assert.deepEqual(await (await app.request('http://localhost/a?k=v#f')).json(), { path: '/a', q: [['k', 'v']] });
});

test('malformed percent-encoding in a param is a 400, not a 500', async () => {
  const app = createApp();
  app.get('/u/:id', (c) => c.text(c.params.id));
  const res = await app.request('/u/%E0%A4%A');
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.code, 'BAD_PATH');
});

test('optional params are typed as possibly undefined', async () => {
  const app = createApp();
  app.get('/posts/:id?', (c) => {
    const id: string | undefined = c.params.id;
    return c.text(id ?? 'index');
  });
  assert.equal(await (await app.request('/posts')).text(), 'index');
  assert.equal(await (await app.request('/posts/5')).text(), '5');
});
