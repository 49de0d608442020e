import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieStore } from './cookie-store.ts';
import { MemoryStore } from './memory-store.ts';
import { session } from './session.ts';
import { createApp } from './index.ts';
import { K1, sessionApp, sessionConformance, sid } from './session-conformance.ts';

sessionConformance('memory', () => new MemoryStore());
sessionConformance('cookie', () => new CookieStore());

test('memory store is bounded: the least recently used session goes first', async () => {
  const store = new MemoryStore({ max: 2 });
  await store.set('a', { v: 'a' }, 60_000);
  await store.set('b', { v: 'b' }, 60_000);
  assert.ok(await store.get('a'), 'touch a: b is now the least recently used');
  await store.set('c', { v: 'c' }, 60_000);
  assert.equal(store.size, 2);
  assert.equal(await store.get('b'), null);
  assert.ok(await store.get('a'));
  assert.ok(await store.get('c'));
  assert.throws(() => new MemoryStore({ max: 0 }), /positive integer/);
});

test('memory store evicts expired sessions before live ones', async () => {
  const store = new MemoryStore({ max: 2 });
  await store.set('old', { v: 1 }, 1);
  await store.set('live', { v: 2 }, 60_000);
  const deadline = Date.now() + 5_000;
  while ((await store.get('old')) !== null) {
    assert.ok(Date.now() < deadline);
    await new Promise((r) => setTimeout(r, 5));
  }
  await store.set('old', { v: 1 }, 1); // re-added as the most recent, already about to expire
  await new Promise((r) => setTimeout(r, 5));
  await store.set('new', { v: 3 }, 60_000);
  assert.ok(await store.get('live'), 'the expired entry went, not the least recently used live one');
  assert.ok(await store.get('new'));
});

test('cookie store: data that would not fit in a cookie is a 500 at save, never a silently lost session', async () => {
  const original = console.error;
  const logged: unknown[] = [];
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const app = createApp();
    app.use(session({ store: new CookieStore(), secret: K1 }));
    app.post('/big', (c) => {
      c.session.set('blob', 'x'.repeat(5000));
      return c.text('ok');
    });
    const res = await app.request('/big', { method: 'POST' });
    assert.equal(res.status, 500);
    assert.deepEqual(res.headers.getSetCookie(), []);
    assert.match(String((logged[0] as unknown[])[1]), /over the cookie store's 3900/);
  } finally {
    console.error = original;
  }
});

test('cookie store: the client can read the data but not change it, and an expired payload is refused', async () => {
  const store = new CookieStore();
  const cookie = sid(await sessionApp(store).request('/login', { method: 'POST' }));
  const value = cookie.slice('sid='.length, cookie.lastIndexOf('.'));
  const payload = JSON.parse(Buffer.from(decodeURIComponent(value), 'base64url').toString('utf8'));
  assert.deepEqual(JSON.parse(payload.d), { user: 'ada' });
  const expired = await store.set('x', { a: 1 }, -1);
  assert.equal(await store.get(expired), null);
});

test('session options: cookie name, SameSite, explicit secure, and bad settings', async () => {
  const app = sessionApp(new MemoryStore(), { cookieName: 'shop', sameSite: 'Strict', secure: true, path: '/' });
  const res = await app.request('/count', { method: 'POST' });
  assert.match(res.headers.getSetCookie()[0], /^shop=.*; Secure; HttpOnly; SameSite=Strict$/);
  assert.throws(() => session({ secret: 'short' }), /at least 32/);
  assert.throws(() => session({ secret: K1, maxAge: 0 }), /positive/);
  const bare = createApp();
  bare.get('/', (c) => c.text(c.session.id));
  const original = console.error;
  console.error = () => {};
  try {
    assert.equal((await bare.request('/')).status, 500, 'c.session without the middleware is a programming error');
  } finally {
    console.error = original;
  }
});

test('a destroyed session refuses writes in the same request', async () => {
  const app = createApp();
  app.use(session({ secret: K1 }));
  app.post('/', (c) => {
    c.session.destroy();
    assert.throws(() => c.session.set('a', 1), /destroyed/);
    return c.text('ok');
  });
  assert.equal((await app.request('/', { method: 'POST' })).status, 200);
});
