import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, csrf, type CsrfOptions } from '../index.ts';

const SECRET = 'a-secret-of-at-least-thirty-two-characters!';

function app(options?: CsrfOptions) {
  const a = createApp();
  a.use(csrf(options));
  a.get('/form', (c) => c.json({ token: c.get('csrfToken') }));
  a.post('/cart', async (c) => c.json({ ok: true, token: c.get('csrfToken') }));
  a.post('/form-post', async (c) => c.json({ item: (await c.bodyForm()).get('item') }));
  a.delete('/cart', (c) => c.text('deleted'));
  return a;
}

/** GETs a page and returns the token cookie and the token the handler saw. */
async function getToken(a: ReturnType<typeof app>) {
  const res = await a.request('/form');
  const setCookie = res.headers.get('set-cookie')!;
  const { token } = (await res.json()) as { token: string };
  const cookie = setCookie.split(';')[0];
  return { token, cookie, setCookie };
}

for (const signed of [false, true]) {
  const opts: CsrfOptions = signed ? { secret: SECRET } : {};
  const label = signed ? 'signed' : 'plain';

  test(`csrf (${label}): a safe request mints a token cookie the handler can read; it is kept afterwards`, async () => {
    const a = app(opts);
    const { token, cookie, setCookie } = await getToken(a);
    assert.ok(token.length >= 32);
    assert.equal(cookie, `csrf=${token}`);
    assert.match(setCookie, /SameSite=Lax/);
    assert.doesNotMatch(setCookie, /HttpOnly/); // the page's script echoes it
    const again = await a.request('/form', { headers: { cookie } });
    assert.equal(again.headers.get('set-cookie'), null);
    assert.equal(((await again.json()) as { token: string }).token, token);
  });

  test(`csrf (${label}): unsafe methods need the cookie and a matching header or form field`, async () => {
    const a = app(opts);
    const { token, cookie } = await getToken(a);
    const ok = await a.request('/cart', { method: 'POST', headers: { cookie, 'x-csrf-token': token } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { token: string }).token, token);
    const form = await a.request('/form-post', {
      method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: `item=lamp&_csrf=${encodeURIComponent(token)}`,
    });
    assert.deepEqual(await form.json(), { item: 'lamp' }); // the handler still reads the form

    const cases: [RequestInit, string][] = [
      [{ method: 'POST' }, 'CSRF_COOKIE_MISSING'],
      [{ method: 'POST', headers: { 'x-csrf-token': token } }, 'CSRF_COOKIE_MISSING'],
      [{ method: 'POST', headers: { cookie } }, 'CSRF_TOKEN_MISSING'],
      [{ method: 'PUT', headers: { cookie } }, 'CSRF_TOKEN_MISSING'],
      [{ method: 'DELETE', headers: { cookie, 'x-csrf-token': token + 'x' } }, 'CSRF_TOKEN_INVALID'],
      [{ method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: '_csrf=nope' }, 'CSRF_TOKEN_INVALID'],
    ];
    for (const [init, code] of cases) {
      // Global middleware runs before routing's 405 too: PUT has no route here, and still gets 403.
      const res = await a.request('/cart', init);
      assert.equal(res.status, 403, `${init.method} ${JSON.stringify(init.headers)}`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    }
  });
}

test('csrf (signed): a cookie not minted with the secret is refused, even when header and cookie agree', async () => {
  const a = app({ secret: SECRET });
  const forged = 'A'.repeat(32) + '.' + 'B'.repeat(43);
  const res = await a.request('/cart', { method: 'POST', headers: { cookie: `csrf=${forged}`, 'x-csrf-token': forged } });
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'CSRF_COOKIE_MISSING');
  // A GET with the forged cookie gets a fresh, valid one.
  const get = await a.request('/form', { headers: { cookie: `csrf=${forged}` } });
  assert.match(get.headers.get('set-cookie')!, /^csrf=/);
  // Tokens minted under another secret do not verify either.
  const other = await getToken(app({ secret: 'another-secret-of-thirty-two-characters!!' }));
  const res2 = await a.request('/cart', { method: 'POST', headers: { cookie: other.cookie, 'x-csrf-token': other.token } });
  assert.equal(res2.status, 403);
});

test('csrf: Sec-Fetch-Site and Origin are checked first, even with a valid token', async () => {
  const a = app({ trustedOrigins: ['https://admin.example'] });
  const { token, cookie } = await getToken(a);
  const send = (h: Record<string, string>) => a.request('/cart', { method: 'POST', headers: { cookie, 'x-csrf-token': token, ...h } });
  const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  for (const site of ['cross-site', 'same-site']) {
    const res = await send({ 'sec-fetch-site': site, origin: 'https://evil.example' });
    assert.equal(res.status, 403);
    assert.equal(await code(res), 'CSRF_CROSS_ORIGIN');
  }
  assert.equal((await send({ 'sec-fetch-site': 'same-origin', origin: 'http://localhost' })).status, 200);
  assert.equal((await send({ 'sec-fetch-site': 'none' })).status, 200);
  assert.equal((await send({ 'sec-fetch-site': 'cross-site', origin: 'https://admin.example' })).status, 200);
  // No Fetch Metadata (older browsers): Origin against the request's own origin.
  assert.equal((await send({ origin: 'http://localhost' })).status, 200);
  const evil = await send({ origin: 'https://evil.example' });
  assert.equal(evil.status, 403);
  assert.equal(await code(evil), 'CSRF_CROSS_ORIGIN');
  assert.equal((await send({ origin: 'null' })).status, 403);
  // Behind a TLS-terminating proxy the request URL is http, the page's origin https.
  assert.equal((await send({ origin: 'https://localhost', 'x-forwarded-proto': 'https' })).status, 200);
  // A cross-site request is refused before its token is even looked at.
  const noToken = await a.request('/cart', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(await code(noToken), 'CSRF_CROSS_ORIGIN');
});

test('csrf: the cookie is Secure on https and honours cookieName/headerName', async () => {
  const a = createApp();
  a.use(csrf({ cookieName: 'xsrf', headerName: 'x-xsrf' }));
  a.get('/', (c) => c.text(String(c.get('csrfToken'))));
  a.post('/', (c) => c.text('ok'));
  const res = await a.request('https://shop.example/');
  const setCookie = res.headers.get('set-cookie')!;
  assert.match(setCookie, /^xsrf=[\w-]+; Path=\/; Secure; SameSite=Lax$/);
  const token = await res.text();
  const ok = await a.request('https://shop.example/', { method: 'POST', headers: { cookie: `xsrf=${token}`, 'x-xsrf': token } });
  assert.equal(ok.status, 200);
});
