import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cors, createApp, type CorsOptions } from '../index.ts';

function app(options?: CorsOptions) {
  const a = createApp();
  a.use(cors(options));
  a.get('/api/products', (c) => c.json([], 200, { 'x-total': '0' }));
  a.post('/api/cart', (c) => c.json({ ok: true }, 201));
  return a;
}

const preflight = (origin: string, headers: Record<string, string> = {}) => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', ...headers },
});

test('cors: default allows any origin with *, and no Vary (the answer does not depend on Origin)', async () => {
  const res = await app().request('/api/products', { headers: { origin: 'https://a.example' } });
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.equal(res.headers.get('vary'), null);
  assert.equal(res.headers.get('access-control-allow-credentials'), null);
});

test('cors: preflight answered 204 with methods, reflected request headers, max-age', async () => {
  const res = await app({ origin: 'https://shop.example', maxAge: 600 }).request('/api/cart',
    preflight('https://shop.example', { 'access-control-request-headers': 'content-type, x-csrf-token' }));
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example');
  assert.equal(res.headers.get('access-control-allow-methods'), 'GET, HEAD, PUT, POST, DELETE, PATCH');
  assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, x-csrf-token');
  assert.equal(res.headers.get('access-control-max-age'), '600');
  assert.equal(res.headers.get('vary'), 'Origin, Access-Control-Request-Headers');
});

test('cors: configured allowHeaders and methods are sent as given; a plain OPTIONS is not a preflight', async () => {
  const a = app({ allowHeaders: ['content-type'], methods: ['GET', 'POST'] });
  const res = await a.request('/api/cart', preflight('https://x.example', { 'access-control-request-headers': 'x-evil' }));
  assert.equal(res.headers.get('access-control-allow-headers'), 'content-type');
  assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST');
  // Without Access-Control-Request-Method: the router's automatic OPTIONS answers.
  const plain = await a.request('/api/cart', { method: 'OPTIONS', headers: { origin: 'https://x.example' } });
  assert.equal(plain.headers.get('allow'), 'OPTIONS, POST');
});

test('cors: credentials never pair with *: the origin is reflected, with Vary: Origin', async () => {
  const a = app({ credentials: true, exposeHeaders: ['x-total'] });
  const res = await a.request('/api/products', { headers: { origin: 'https://a.example' } });
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://a.example');
  assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
  assert.equal(res.headers.get('access-control-expose-headers'), 'x-total');
  assert.equal(res.headers.get('vary'), 'Origin');
  const pre = await a.request('/api/cart', preflight('https://a.example'));
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://a.example');
  assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
});

test('cors: disallowed origins get no CORS headers, on preflights and actual requests', async () => {
  for (const origin of ['https://shop.example', ['https://shop.example', 'https://b.example'], /^https:\/\/(shop|b)\.example$/g,
    (o: string) => o.endsWith('.example') && o !== 'https://evil.example'] as const) {
    const a = app({ origin, credentials: true });
    for (let i = 0; i < 2; i++) {
      // twice: a /g RegExp must not carry lastIndex between requests
      const ok = await a.request('/api/products', { headers: { origin: 'https://shop.example' } });
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.example', String(origin));
    }
    const res = await a.request('/api/products', { headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    assert.equal(res.headers.get('vary'), 'Origin');
    const pre = await a.request('/api/cart', preflight('https://evil.example'));
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
    assert.equal(pre.headers.get('access-control-allow-methods'), null);
  }
});

test('cors: requests without Origin are untouched apart from Vary; Vary is merged, not replaced', async () => {
  const a = createApp();
  a.use(cors({ origin: 'https://shop.example' }));
  a.get('/', (c) => c.text('ok', 200, { vary: 'Accept-Encoding' }));
  const res = await a.request('/');
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  assert.equal(res.headers.get('vary'), 'Accept-Encoding, Origin');
});

test('cors: labels error responses and immutable redirects too', async () => {
  const a = createApp();
  a.use(cors({ origin: 'https://shop.example' }));
  a.get('/r', () => Response.redirect('http://localhost/x', 302));
  const r = await a.request('/r', { headers: { origin: 'https://shop.example' } });
  assert.equal(r.headers.get('access-control-allow-origin'), 'https://shop.example');
  const nf = await a.request('/nope', { headers: { origin: 'https://shop.example' } });
  assert.equal(nf.status, 404);
  assert.equal(nf.headers.get('access-control-allow-origin'), 'https://shop.example');
});
