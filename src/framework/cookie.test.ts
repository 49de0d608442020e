import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCookies, serializeCookie } from './cookie.ts';
import { CookieSigner } from './signed-cookie.ts';
import { createApp } from './index.ts';

const K1 = 'k1-0123456789abcdef0123456789abcdef';
const K2 = 'k2-0123456789abcdef0123456789abcdef';

test('parseCookies follows RFC 6265 §5.2: whitespace, no-"=" pairs, quotes, first wins, decoding', () => {
  assert.deepEqual({ ...parseCookies('a=1; b=2') }, { a: '1', b: '2' });
  assert.deepEqual({ ...parseCookies('  a = 1 ;b=2;;  c=x=y ') }, { a: '1', b: '2', c: 'x=y' });
  assert.deepEqual({ ...parseCookies('flag; a=1; =nameless') }, { a: '1' });
  assert.deepEqual({ ...parseCookies('a="quoted"; b=') }, { a: 'quoted', b: '' });
  assert.deepEqual({ ...parseCookies('a=first; a=second') }, { a: 'first' });
  assert.deepEqual({ ...parseCookies('a=h%C3%A9%3B; b=100%; c=%E0%A4%A') }, { a: 'hé;', b: '100%', c: '%E0%A4%A' });
  assert.deepEqual({ ...parseCookies(null) }, {});
  const odd = parseCookies('__proto__=x; constructor=y');
  assert.equal(Object.getPrototypeOf(odd), null);
  assert.equal(odd['__proto__'], 'x');
  assert.equal(odd.constructor, 'y');
});

test('serializeCookie writes every attribute and refuses what an agent would misread', () => {
  assert.equal(serializeCookie('a', 'b c;d'), 'a=b%20c%3Bd; Path=/');
  assert.equal(
    serializeCookie('sid', 'v', {
      maxAge: 60.9, expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)), domain: 'shop.test', path: '/api',
      secure: true, httpOnly: true, sameSite: 'None', partitioned: true, priority: 'High',
    }),
    'sid=v; Max-Age=60; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Domain=shop.test; Path=/api; Secure; HttpOnly; SameSite=None; Partitioned; Priority=High',
  );
  assert.equal(serializeCookie('a', '', { maxAge: -5 }), 'a=; Max-Age=0; Path=/');
  assert.throws(() => serializeCookie('bad name', 'v'), /invalid cookie name/);
  assert.throws(() => serializeCookie('a;b', 'v'), /invalid cookie name/);
  assert.throws(() => serializeCookie('a', 'v', { path: '/x;Domain=evil' }), /invalid path/);
  assert.throws(() => serializeCookie('a', 'v', { sameSite: 'None' }), /requires secure/);
  assert.throws(() => serializeCookie('a', 'v', { partitioned: true }), /requires secure/);
  assert.throws(() => serializeCookie('a', 'v', { maxAge: Number.NaN }), /finite/);
  assert.throws(() => serializeCookie('a', 'v', { expires: new Date('nope') }), /invalid date/);
  // A serialised value parses back to itself.
  const tricky = 'a b;c,d"é%';
  const header = serializeCookie('t', tricky).split(';')[0];
  assert.equal(parseCookies(header).t, tricky);
});

test('CookieSigner: round trip, tampering, name binding, short secrets', () => {
  const s = new CookieSigner(K1);
  const signed = s.sign('cart', 'abc.def');
  assert.equal(s.unsign('cart', signed), 'abc.def');
  assert.equal(s.unsign('other', signed), null, 'a value signed for one name is refused under another');
  assert.equal(s.unsign('cart', signed.replace('abc', 'abd')), null);
  assert.equal(s.unsign('cart', signed.slice(0, -1)), null);
  assert.equal(s.unsign('cart', 'abc'), null);
  assert.equal(s.unsign('cart', `abc.${'A'.repeat(43)}`), null);
  assert.equal(new CookieSigner(K2).unsign('cart', signed), null);
  assert.throws(() => new CookieSigner('short'), /at least 32/);
  assert.throws(() => new CookieSigner([]), /at least one/);
});

test('CookieSigner key rotation: the newest signs, every key verifies, dropped keys stop verifying', () => {
  const old = new CookieSigner([K1]);
  const rotated = new CookieSigner([K2, K1]);
  const before = old.sign('sid', 'x');
  assert.equal(rotated.unsign('sid', before), 'x');
  assert.equal(rotated.isStale('sid', before), true);
  const after = rotated.sign('sid', 'x');
  assert.notEqual(after, before);
  assert.equal(rotated.isStale('sid', after), false);
  assert.equal(new CookieSigner([K2]).unsign('sid', after), 'x');
  assert.equal(new CookieSigner([K2]).unsign('sid', before), null, 'K1 retired');
});

test('c.cookie, c.setCookie: several Set-Cookie fields survive, also when set after next()', async () => {
  const app = createApp();
  app.use(async (c, next) => {
    await next();
    c.setCookie('late', '3');
  });
  app.get('/', (c) => {
    c.setCookie('a', '1', { httpOnly: true });
    c.setCookie('b', 'x y');
    return c.json({ seen: c.cookie('seen') ?? null, all: c.cookies() });
  });
  const res = await app.request('/', { headers: { cookie: 'seen=h%C3%A9; z=9' } });
  assert.deepEqual(await res.json(), { seen: 'hé', all: { seen: 'hé', z: '9' } });
  assert.deepEqual(res.headers.getSetCookie(), ['a=1; Path=/; HttpOnly', 'b=x%20y; Path=/', 'late=3; Path=/']);
});

test('cookies reach immutable responses, error responses and HEAD; deleteCookie expires', async () => {
  const app = createApp();
  app.get('/redirect', (c) => {
    c.setCookie('r', '1');
    return Response.redirect('http://localhost/elsewhere', 303);
  });
  app.get('/boom', (c) => {
    c.setCookie('b', '1');
    throw new Error('boom');
  });
  app.get('/logout', (c) => {
    c.deleteCookie('sid', { path: '/app' });
    return c.text('bye');
  });
  const r = await app.request('/redirect');
  assert.equal(r.status, 303);
  assert.deepEqual(r.headers.getSetCookie(), ['r=1; Path=/']);
  const original = console.error;
  console.error = () => {};
  try {
    const b = await app.request('/boom');
    assert.equal(b.status, 500);
    assert.deepEqual(b.headers.getSetCookie(), ['b=1; Path=/']);
  } finally {
    console.error = original;
  }
  const h = await app.request('/redirect', { method: 'HEAD' });
  assert.deepEqual(h.headers.getSetCookie(), ['r=1; Path=/']);
  const out = await app.request('/logout');
  assert.deepEqual(out.headers.getSetCookie(), ['sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/app']);
});

test('signed cookies through the app, with rotation; without secrets they are a programming error', async () => {
  const make = (secrets: string[]) => {
    const app = createApp({ secrets });
    app.get('/set', (c) => {
      c.setSignedCookie('user', 'ada', { httpOnly: true });
      return c.text('ok');
    });
    app.get('/get', (c) => c.json({ user: c.signedCookie('user') ?? null }));
    return app;
  };
  const v1 = make([K1]);
  const cookie = (await v1.request('/set')).headers.getSetCookie()[0].split(';')[0];
  assert.match(cookie, /^user=ada\.[\w-]{43}$/);
  const get = async (app: ReturnType<typeof make>, c: string) => (await (await app.request('/get', { headers: { cookie: c } })).json()).user;
  assert.equal(await get(v1, cookie), 'ada');
  assert.equal(await get(v1, cookie.replace('ada', 'eve')), null);
  assert.equal(await get(make([K2, K1]), cookie), 'ada', 'an old key still verifies');
  assert.equal(await get(make([K2]), cookie), null, 'a dropped key no longer does');

  const bare = createApp();
  bare.get('/', (c) => c.text(c.signedCookie('x') ?? ''));
  const original = console.error;
  console.error = () => {};
  try {
    assert.equal((await bare.request('/', { headers: { cookie: 'x=1' } })).status, 500);
  } finally {
    console.error = original;
  }
  assert.throws(() => createApp({ secrets: ['too-short'] }), /at least 32/);
});
