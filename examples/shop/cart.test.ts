import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createShopApp } from './app.ts';
import { MemoryStore, type App } from '../../src/framework/index.ts';

/** A browser's cookie jar for one site, enough for these requests. */
class Client {
  cookie: string | undefined;
  readonly app: App;
  constructor(app: App) {
    this.app = app;
  }

  async send(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie !== undefined) headers.set('cookie', this.cookie);
    const res = await this.app.request(path, { ...init, headers });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('shop_session='));
    if (set !== undefined) this.cookie = set.split(';')[0];
    return res;
  }

  add(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return this.send('/api/cart', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  }
}

test('cart: empty without a session, and no cookie is set just for looking', async () => {
  const res = await createShopApp({ log: false }).request('/api/cart');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { items: [], count: 0, total: 0 });
  assert.deepEqual(res.headers.getSetCookie(), []);
});

test('cart: POST adds, the session cookie carries it to the next request, quantities add up', async () => {
  const browser = new Client(createShopApp({ log: false }));
  const first = await browser.add({ productId: '1', quantity: 2 });
  assert.equal(first.status, 200);
  const line = first.headers.getSetCookie()[0];
  assert.match(line, /^shop_session=[^;]+; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/);
  assert.deepEqual(await first.json(), {
    items: [{ productId: '1', name: 'Espresso cup', price: 8.5, quantity: 2, subtotal: 17 }],
    count: 2,
    total: 17,
  });
  await browser.add({ productId: '3', quantity: 1 });
  await browser.add({ productId: '1', quantity: 1 });
  const cart = await (await browser.send('/api/cart')).json();
  assert.deepEqual(cart.items.map((i: { productId: string; quantity: number }) => [i.productId, i.quantity]), [['1', 3], ['3', 1]]);
  assert.equal(cart.count, 4);
  assert.equal(cart.total, 38.4);
  // Another visitor has a cart of their own.
  assert.deepEqual(await (await new Client(browser.app).send('/api/cart')).json(), { items: [], count: 0, total: 0 });
});

test('cart: 404 for an unknown product, 400 naming bad fields, 415 for non-JSON; the cart is unchanged', async () => {
  const browser = new Client(createShopApp({ log: false }));
  await browser.add({ productId: '2', quantity: 1 });
  const missing = await browser.add({ productId: '999', quantity: 1 });
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'PRODUCT_NOT_FOUND');
  const bad = await browser.add({ productId: '', quantity: 1.5 });
  assert.equal(bad.status, 400);
  assert.deepEqual((await bad.json()).error.issues.map((i: { path: string }) => i.path), ['productId', 'quantity']);
  const zero = await browser.add({ productId: '2', quantity: 0 });
  assert.equal((await zero.json()).error.issues[0].message, 'quantity must be at least 1');
  const form = await browser.send('/api/cart', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'productId=2&quantity=1' });
  assert.equal(form.status, 415);
  assert.equal((await (await browser.send('/api/cart')).json()).count, 1);
});

test('cart: a tampered session cookie is an empty cart, and a line stops at 99', async () => {
  const browser = new Client(createShopApp({ log: false }));
  await browser.add({ productId: '1', quantity: 99 });
  await browser.add({ productId: '1', quantity: 5 });
  assert.equal((await (await browser.send('/api/cart')).json()).count, 99);
  const [name, value] = browser.cookie!.split('=');
  const forged = `${name}=${value.startsWith('A') ? 'B' : 'A'}${value.slice(1)}`;
  const res = await browser.app.request('/api/cart', { headers: { cookie: forged } });
  assert.equal((await res.json()).count, 0);
});

test('cart: Secure behind an https proxy; a server-side store and secret can be passed in', async () => {
  const store = new MemoryStore();
  const browser = new Client(createShopApp({ log: false, sessionStore: store, sessionSecret: ['n'.repeat(32), 'o'.repeat(32)] }));
  const res = await browser.add({ productId: '2', quantity: 1 }, { 'x-forwarded-proto': 'https' });
  assert.match(res.headers.getSetCookie()[0], /; Secure; HttpOnly; SameSite=Lax$/);
  assert.equal(store.size, 1);
  assert.equal((await (await browser.send('/api/cart')).json()).count, 1);
});

test('cart: any worker reads the cart (the default store keeps nothing in the process)', async () => {
  // Two app instances stand for the two workers `npm start` runs: same secret, no shared memory.
  const worker1 = createShopApp({ log: false });
  const worker2 = createShopApp({ log: false });
  const browser = new Client(worker1);
  await browser.add({ productId: '3', quantity: 2 });
  const elsewhere = await worker2.request('/api/cart', { headers: { cookie: browser.cookie! } });
  assert.equal((await elsewhere.json()).count, 2);
  const otherSecret = createShopApp({ log: false, sessionSecret: 'z'.repeat(32) });
  const refused = await otherSecret.request('/api/cart', { headers: { cookie: browser.cookie! } });
  assert.equal((await refused.json()).count, 0, 'a cookie signed with another secret is not trusted');
});

test('cart: the session middleware is on the cart group only', () => {
  const shop = createShopApp({ log: false });
  assert.deepEqual(shop.middleware('/api/cart', 'POST').map((m) => `${m.scope} ${m.name}`), [
    'global timing', 'global poweredBy', 'global logger', 'group:/api/cart session', 'route validate(json)',
  ]);
  assert.ok(shop.middleware('/api/products', 'GET').every((m) => m.name !== 'session'));
});

test('the shop refuses to start in production without session secrets', () => {
  const saved = { env: process.env.NODE_ENV, secrets: process.env.SHOP_SESSION_SECRETS };
  process.env.NODE_ENV = 'production';
  delete process.env.SHOP_SESSION_SECRETS;
  try {
    assert.throws(() => createShopApp({ log: false }), /SHOP_SESSION_SECRETS/);
    process.env.SHOP_SESSION_SECRETS = `${'a'.repeat(32)}, ${'b'.repeat(32)}`;
    assert.equal(typeof createShopApp({ log: false }).fetch, 'function');
  } finally {
    if (saved.env === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved.env;
    if (saved.secrets === undefined) delete process.env.SHOP_SESSION_SECRETS;
    else process.env.SHOP_SESSION_SECRETS = saved.secrets;
  }
});

test('the page offers "add to cart" for each product and shows the cart', async () => {
  const { readFile } = await import('node:fs/promises');
  const html = await readFile(new URL('./public/index.html', import.meta.url), 'utf8');
  assert.match(html, /textContent = 'Add to cart'/);
  assert.match(html, /fetch\('\/api\/cart', \{\s*method: 'POST'/);
  assert.match(html, /id="cart"/);
});
