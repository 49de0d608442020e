import { test } from 'node:test';
import assert from 'node:assert/strict';
import app, { createShopApp } from './app.ts';
import { SEED } from './products.ts';

function postJson(body: unknown) {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

test('default export is a fetch app', async () => {
  assert.equal(typeof app.fetch, 'function');
  const res = await app.fetch(new Request('http://shop.test/api/health'));
  assert.equal(res.status, 200);
});

test('GET /api/health', async () => {
  const res = await createShopApp({ log: false }).request('/api/health');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-powered-by'), 'Portico');
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('GET /api/products lists the seeded products', async () => {
  const res = await createShopApp({ log: false }).request('/api/products');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  const products = await res.json();
  assert.equal(products.length, 3);
  assert.deepEqual(products, SEED);
});

test('GET /api/products/:id, and a JSON 404 for an unknown id', async () => {
  const shop = createShopApp({ log: false });
  const res = await shop.request('/api/products/2');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), SEED[1]);
  const missing = await shop.request('/api/products/999', { headers: { 'x-request-id': 'shop-404' } });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), {
    error: { status: 404, code: 'PRODUCT_NOT_FOUND', message: 'no product with id 999', requestId: 'shop-404' },
  });
});

test('POST /api/products creates: 201, Location, then listed and fetchable', async () => {
  const shop = createShopApp({ log: false });
  const res = await shop.request('/api/products', postJson({ name: 'Teapot', price: 24, tags: ['kitchen'] }));
  assert.equal(res.status, 201);
  const created = await res.json();
  assert.deepEqual(created, { id: '4', name: 'Teapot', price: 24, tags: ['kitchen'] });
  assert.equal(res.headers.get('location'), '/api/products/4');
  assert.deepEqual(await (await shop.request('/api/products/4')).json(), created);
  assert.equal((await (await shop.request('/api/products')).json()).length, 4);
  // tags are optional
  const bare = await shop.request('/api/products', postJson({ name: 'Mug', price: 6 }));
  assert.deepEqual(await bare.json(), { id: '5', name: 'Mug', price: 6, tags: [] });
});

test('POST /api/products: 400 naming each failing field', async () => {
  const shop = createShopApp({ log: false });
  const res = await shop.request('/api/products', postJson({ name: '  ', price: 0, tags: ['ok', 7] }));
  assert.equal(res.status, 400);
  const { error } = await res.json();
  assert.equal(error.code, 'VALIDATION_FAILED');
  assert.deepEqual(error.issues.map((i: { path: string }) => i.path), ['name', 'price', 'tags.1']);
  assert.equal(error.issues[0].message, 'name must not be empty');
  assert.equal(error.issues[1].message, 'price must be a positive number');
  const missing = await (await shop.request('/api/products', postJson({}))).json();
  assert.deepEqual(missing.error.issues.map((i: { path: string }) => i.path), ['name', 'price']);
  assert.equal((await (await shop.request('/api/products')).json()).length, 3, 'nothing was created');
});

test('POST /api/products: 415 without JSON, 400 on malformed JSON', async () => {
  const shop = createShopApp({ log: false });
  const form = await shop.request('/api/products', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=x&price=1',
  });
  assert.equal(form.status, 415);
  const broken = await shop.request('/api/products', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
  assert.equal(broken.status, 400);
  assert.equal((await broken.json()).error.code, 'INVALID_JSON');
});

test('405 with Allow, HEAD and OPTIONS on the products collection', async () => {
  const shop = createShopApp({ log: false });
  const del = await shop.request('/api/products', { method: 'DELETE' });
  assert.equal(del.status, 405);
  assert.equal(del.headers.get('allow'), 'GET, HEAD, OPTIONS, POST');
  const head = await shop.request('/api/products', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  assert.equal((await shop.request('/api/products', { method: 'OPTIONS' })).status, 204);
});

test('middleware is listed with names, scopes and places', () => {
  const shop = createShopApp({ log: false });
  const chain = shop.middleware('/api/products', 'POST');
  assert.deepEqual(chain.map((m) => `${m.scope} ${m.name}`), ['global timing', 'global poweredBy', 'global logger', 'route validate(json)']);
  for (const m of chain) assert.match(m.addedAt, /^examples\/shop\/app\.ts:\d+$/);
  assert.deepEqual(shop.routes(), [
    { method: 'GET', path: '/api/health' },
    { method: 'GET', path: '/api/products' },
    { method: 'GET', path: '/api/products/:id' },
    { method: 'POST', path: '/api/products' },
    { method: 'GET', path: '/api/cart' },
    { method: 'POST', path: '/api/cart' },
  ]);
});
