import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, type Middleware } from './index.ts';

/** A middleware that records its name before and after `next()`. */
function trace(log: string[], name: string): Middleware {
  const mw: Middleware = async (_c, next) => {
    log.push(`${name}>`);
    await next();
    log.push(`<${name}`);
  };
  Object.defineProperty(mw, 'name', { value: name });
  return mw;
}

test('onion order: global → group → route → handler, then back out', async () => {
  const log: string[] = [];
  const app = createApp();
  app.use(trace(log, 'g1')).use(trace(log, 'g2'));
  const api = app.group('/api');
  api.use(trace(log, 'api'));
  api.get('/x', trace(log, 'r1'), trace(log, 'r2'), (c) => {
    log.push('handler');
    return c.text('ok');
  });
  assert.equal(await (await app.request('/api/x')).text(), 'ok');
  assert.deepEqual(log, ['g1>', 'g2>', 'api>', 'r1>', 'r2>', 'handler', '<r2', '<r1', '<api', '<g2', '<g1']);
});

test('after next(): a middleware can change the response or replace it', async () => {
  const app = createApp();
  app.use(async function poweredBy(c, next) {
    await next();
    c.res!.headers.set('x-powered-by', 'portico');
  });
  app.use(async function wrap(c, next) {
    const res = await next();
    return new Response(`[${await res.text()}]`, res);
  });
  app.get('/', (c) => c.text('x'));
  const res = await app.request('/');
  assert.equal(res.headers.get('x-powered-by'), 'portico');
  assert.equal(await res.text(), '[x]');
});

test('a middleware that answers stops the chain', async () => {
  const app = createApp();
  let reached = false;
  app.use(async function auth(c, next) {
    if (c.header('authorization') === undefined) return c.json({ error: 'no' }, 401);
    return next();
  });
  app.get('/', (c) => {
    reached = true;
    return c.text('in');
  });
  assert.equal((await app.request('/')).status, 401);
  assert.equal(reached, false);
  assert.equal((await app.request('/', { headers: { authorization: 'x' } })).status, 200);
});

test('global middleware also runs for 404, 405 and automatic OPTIONS', async () => {
  const app = createApp();
  app.use(async function stamp(c, next) {
    await next();
    c.res!.headers.set('x-stamp', '1');
  });
  app.get('/a', (c) => c.text('a'));
  for (const [path, method, status] of [['/nope', 'GET', 404], ['/a', 'POST', 405], ['/a', 'OPTIONS', 204]] as const) {
    const res = await app.request(path, { method });
    assert.equal(res.status, status);
    assert.equal(res.headers.get('x-stamp'), '1', `${method} ${path}`);
  }
});

test('outer middleware sees the error response of a throwing handler', async (t) => {
  t.mock.method(console, 'error', () => {});
  const app = createApp();
  const seen: number[] = [];
  app.use(async function logger(c, next) {
    await next();
    seen.push(c.res!.status);
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  assert.equal((await app.request('/boom')).status, 500);
  assert.deepEqual(seen, [500]);
});

test('a middleware that neither answers nor calls next() is a 500 naming it', async (t) => {
  const logged = t.mock.method(console, 'error', () => {});
  const app = createApp({ dev: true });
  app.use(function forgetful() {});
  app.get('/', (c) => c.text('x'));
  const res = await app.request('/');
  assert.equal(res.status, 500);
  assert.match((await res.json()).error.stack, /"forgetful" returned no response/);
  assert.equal(logged.mock.callCount(), 1);
});

test('middleware added after routes, even after a first request, still applies', async () => {
  const app = createApp();
  app.get('/', (c) => c.text('x'));
  assert.equal((await app.request('/')).headers.get('x-late'), null);
  app.use(async function late(c, next) {
    await next();
    c.res!.headers.set('x-late', '1');
  });
  assert.equal((await app.request('/')).headers.get('x-late'), '1');
});

test('the chain is composed once per route, not per request', async () => {
  const app = createApp();
  app.use(async function noop(_c, next) {
    await next();
  });
  app.get('/', (c) => c.text('x'));
  await app.request('/');
  // Internals on purpose: the flattened chain is cached on the route entry and reused.
  const entry = (app as any).table.entries[0];
  const first = entry.fns;
  await app.request('/');
  assert.ok(first !== null && entry.fns === first);
});

test('introspection: names, scopes and where each was added', () => {
  const app = createApp();
  app.use(async function requestLog(_c, next) {
    await next();
  });
  app.use('cors', async (_c, next) => {
    await next();
  });
  const api = app.group('/api');
  api.use(async (_c, next) => {
    await next();
  });
  const v1 = api.group('/v1');
  v1.use(async function versioned(_c, next) {
    await next();
  });
  const onlyHere: Middleware = async (_c, next) => {
    await next();
  };
  v1.post('/items/:id', onlyHere, (c) => c.text('x'));

  assert.deepEqual(app.middleware().map((m) => [m.name, m.scope]), [['requestLog', 'global'], ['cors', 'global']]);
  const chain = app.middleware('/api/v1/items/:id', 'POST');
  assert.deepEqual(chain.map((m) => [m.name, m.scope]), [
    ['requestLog', 'global'],
    ['cors', 'global'],
    ['anonymous', 'group:/api'],
    ['versioned', 'group:/api/v1'],
    ['onlyHere', 'route'],
  ]);
  for (const m of chain) assert.match(m.addedAt, /^src\/framework\/middleware\.test\.ts:\d+$/);
  const line = (name: string) => Number(chain.find((m) => m.name === name)!.addedAt.split(':')[1]);
  assert.ok(line('requestLog') < line('cors') && line('cors') < line('versioned') && line('versioned') < line('onlyHere'));
  // A concrete path finds the same route.
  assert.deepEqual(app.middleware('/api/v1/items/42', 'POST'), chain);
  // An unknown route: what a 404 would run, the global middleware.
  assert.deepEqual(app.middleware('/zzz'), app.middleware());
});

test('a route without middleware: sync and async handlers, thrown errors, next() and no answer follow the chain rules', async () => {
  const app = createApp();
  app.get('/sync', (c) => c.text('sync'));
  app.get('/async', async (c) => c.json({ ok: true }));
  app.get('/throws', () => { throw new Error('boom'); });
  app.get('/rejects', async () => { throw new Error('boom'); });
  const passOn: Middleware = (_c, next) => next();
  app.get('/next', passOn as never);
  app.get('/nothing', (() => undefined) as never);
  app.get('/cookie', (c) => {
    c.setCookie('a', 'b');
    return c.text('with cookie');
  });
  // A synchronous handler's response comes back without a promise (the fast path).
  const direct = app.fetch(new Request('http://x/sync'));
  assert.ok(direct instanceof Response);
  assert.equal(await direct.text(), 'sync');
  assert.deepEqual(await (await app.request('/async')).json(), { ok: true });
  const thrown = await app.request('/throws');
  assert.equal(thrown.status, 500);
  assert.equal((await app.request('/rejects')).status, 500);
  assert.equal((await app.request('/next')).status, 404);
  assert.equal((await app.request('/nothing')).status, 500);
  const cookie = await app.request('/cookie');
  assert.match(cookie.headers.get('set-cookie') ?? '', /^a=b/);
  const head = await app.request('/sync', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});
