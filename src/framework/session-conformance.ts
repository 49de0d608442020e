// One behaviour suite for every session store, run through the session middleware as an app
// uses it: `sessionConformance('memory', () => new MemoryStore())`. A store that passes can be
// swapped for another without the app noticing (except where `inCookie` says revocation differs).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, type App } from './index.ts';
import { session, type SessionOptions } from './session.ts';
import type { SessionStore } from './session-store.ts';

export const K1 = 'k1-0123456789abcdef0123456789abcdef';
export const K2 = 'k2-0123456789abcdef0123456789abcdef';

export type StoreFactory = () => SessionStore | Promise<SessionStore>;

/** The app every case drives: who am I, log in (rotating the id), count, log out. */
export function sessionApp(store: SessionStore, options: Partial<SessionOptions> = {}): App {
  const app = createApp();
  app.use(session({ store, secret: K1, ...options }));
  app.get('/me', (c) => c.json({ id: c.session.id, isNew: c.session.isNew, user: c.session.get('user') ?? null, n: c.session.get('n') ?? 0 }));
  app.post('/login', (c) => {
    c.session.regenerate();
    c.session.set('user', 'ada');
    return c.json({ id: c.session.id });
  });
  app.post('/count', (c) => {
    c.session.set('n', (c.session.get<number>('n') ?? 0) + 1);
    return c.json({ n: c.session.get('n') });
  });
  app.post('/logout', (c) => {
    c.session.destroy();
    return c.text('bye');
  });
  return app;
}

/** The `sid=…` pair of the response's Set-Cookie, for the next request's Cookie header. */
export function sid(res: Response): string {
  const line = res.headers.getSetCookie().find((v) => v.startsWith('sid='));
  assert.ok(line, `expected a sid cookie, got ${JSON.stringify(res.headers.getSetCookie())}`);
  return line.split(';')[0];
}

async function me(app: App, cookie?: string): Promise<{ id: string; isNew: boolean; user: string | null; n: number }> {
  const res = await app.request('/me', cookie === undefined ? {} : { headers: { cookie } });
  return res.json();
}

const POST = { method: 'POST' };
const withCookie = (cookie: string, init: RequestInit = POST): RequestInit => ({ ...init, headers: { cookie } });

export function sessionConformance(name: string, makeStore: StoreFactory): void {
  describe(`session store conformance: ${name}`, () => {
    test('store: unknown or garbage values are null; set → get round-trips a copy', async () => {
      const store = await makeStore();
      assert.equal(await store.get('nope'), null);
      assert.equal(await store.get('%%%not base64 or an id%%%'), null);
      const data = { user: 'ada', cart: [{ productId: '1', quantity: 2 }] };
      const value = await store.set('id-1', data, 60_000);
      data.cart[0].quantity = 99;
      const got = await store.get(value);
      assert.deepEqual(got, { id: 'id-1', data: { user: 'ada', cart: [{ productId: '1', quantity: 2 }] } });
      (got!.data.cart as { quantity: number }[])[0].quantity = 7;
      assert.deepEqual((await store.get(value))!.data.cart, [{ productId: '1', quantity: 2 }]);
      const again = await store.set('id-1', { user: 'bob' }, 60_000);
      assert.deepEqual((await store.get(again))!.data, { user: 'bob' });
    });

    test('store: non-JSON data is refused', async () => {
      const store = await makeStore();
      await assert.rejects(store.set('id-2', { n: 1n }, 60_000), TypeError);
    });

    test('store: an entry expires after its TTL', async () => {
      const store = await makeStore();
      const value = await store.set('id-3', { a: 1 }, 150);
      assert.ok(await store.get(value));
      // Deadline-bounded polling: the store's own clock decides, not a fixed sleep.
      const deadline = Date.now() + 5_000;
      while ((await store.get(value)) !== null) {
        assert.ok(Date.now() < deadline, 'the session did not expire within 5 s');
        await new Promise((r) => setTimeout(r, 25));
      }
    });

    test('store: destroy forgets server-side sessions', async () => {
      const store = await makeStore();
      const value = await store.set('id-4', { a: 1 }, 60_000);
      await store.destroy('id-4');
      // The cookie store keeps nothing to forget: the middleware expiring the cookie is all it has.
      if (!store.inCookie) assert.equal(await store.get(value), null);
    });

    test('middleware: no cookie for an untouched session; HttpOnly, SameSite=Lax, Max-Age once written', async () => {
      const app = sessionApp(await makeStore(), { maxAge: 600 });
      const anon = await app.request('/me');
      assert.deepEqual(anon.headers.getSetCookie(), []);
      const res = await app.request('/count', POST);
      const [line] = res.headers.getSetCookie();
      assert.match(line, /^sid=[^;]+\.[\w-]{43}; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/);
      const second = await app.request('/count', withCookie(sid(res)));
      assert.deepEqual(await second.json(), { n: 2 });
      const state = await me(app, sid(await app.request('/count', withCookie(sid(second)))));
      assert.equal(state.n, 3);
      assert.equal(state.isNew, false);
    });

    test('middleware: responses are kept out of shared caches (Vary: Cookie, Cache-Control: private)', async () => {
      const store = await makeStore();
      const app = sessionApp(store);
      app.get('/public', (c) => {
        c.session.set('seen', true);
        return c.text('x', 200, { 'cache-control': 'no-store', vary: 'Accept-Encoding' });
      });
      app.get('/redirect', (c) => {
        c.session.set('seen', true);
        return Response.redirect('http://localhost/me', 302);
      });
      const anon = await app.request('/me');
      assert.equal(anon.headers.get('vary'), 'Cookie');
      assert.equal(anon.headers.get('cache-control'), null, 'no cookie set: caching policy left alone');
      const writes = await app.request('/count', POST);
      assert.equal(writes.headers.get('cache-control'), 'private');
      const own = await app.request('/public');
      assert.equal(own.headers.get('cache-control'), 'no-store', "the handler's policy wins");
      assert.equal(own.headers.get('vary'), 'Accept-Encoding, Cookie');
      const redirect = await app.request('/redirect');
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.get('cache-control'), 'private');
      assert.equal(redirect.headers.getSetCookie().length, 1);
    });

    test('middleware: Secure on https, by URL or X-Forwarded-Proto', async () => {
      const app = sessionApp(await makeStore());
      const direct = await app.request('https://shop.test/count', POST);
      assert.match(direct.headers.getSetCookie()[0], /; Secure; HttpOnly; SameSite=Lax$/);
      const proxied = await app.request('/count', { method: 'POST', headers: { 'x-forwarded-proto': 'https, http' } });
      assert.match(proxied.headers.getSetCookie()[0], /; Secure;/);
      const plain = await app.request('/count', { method: 'POST', headers: { 'x-forwarded-proto': 'http' } });
      assert.doesNotMatch(plain.headers.getSetCookie()[0], /Secure/);
    });

    test('middleware: regenerate() on login gives a new id, keeps the data, retires the old id', async () => {
      const store = await makeStore();
      const app = sessionApp(store);
      const before = sid(await app.request('/count', POST));
      const idBefore = (await me(app, before)).id;
      const login = await app.request('/login', withCookie(before));
      const after = sid(login);
      const state = await me(app, after);
      assert.notEqual(state.id, idBefore);
      assert.equal(state.user, 'ada');
      assert.equal(state.n, 1, 'data survives the rotation');
      const old = await me(app, before);
      if (!store.inCookie) assert.equal(old.isNew, true, 'the pre-login id no longer works');
    });

    test('middleware: destroy() expires the cookie and the session', async () => {
      const store = await makeStore();
      const app = sessionApp(store);
      const cookie = sid(await app.request('/login', POST));
      const out = await app.request('/logout', withCookie(cookie));
      assert.match(out.headers.getSetCookie()[0], /^sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=\/; HttpOnly; SameSite=Lax$/);
      if (!store.inCookie) assert.equal((await me(app, cookie)).user, null);
    });

    test('middleware: forged, unsigned or client-chosen ids are never adopted', async () => {
      const app = sessionApp(await makeStore());
      const cookie = sid(await app.request('/login', POST));
      const [, signed] = cookie.split('=');
      const dot = signed.lastIndexOf('.');
      const value = signed.slice(0, dot);
      const flipped = value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A');
      for (const forged of [`sid=${value}`, `sid=${flipped}${signed.slice(dot)}`, 'sid=attacker-chosen-id']) {
        const state = await me(app, forged);
        assert.equal(state.isNew, true, forged);
        assert.equal(state.user, null);
      }
      const fixated = await app.request('/count', withCookie('sid=attacker-chosen-id'));
      assert.notEqual((await me(app, sid(fixated))).id, 'attacker-chosen-id');
    });

    test('middleware: secret rotation reads old cookies and re-signs them with the newest key', async () => {
      const store = await makeStore();
      const cookie = sid(await sessionApp(store).request('/login', POST));
      const rotated = sessionApp(store, { secret: [K2, K1] });
      const res = await rotated.request('/me', { headers: { cookie } });
      assert.equal((await res.json()).user, 'ada');
      const resigned = sid(res);
      assert.notEqual(resigned, cookie);
      assert.equal((await me(sessionApp(store, { secret: K2 }), resigned)).user, 'ada');
      assert.equal((await me(sessionApp(store, { secret: K2 }), cookie)).user, null, 'K1 retired');
    });
  });
}
