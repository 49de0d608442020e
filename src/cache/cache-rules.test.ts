// Rules found missing or wrong reading the cache against RFC 9111 §3–§5, each with its test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Clock, makeCache, ok, origin, request, send } from './test-helpers.ts';

describe('RFC 9111 rules (audit)', () => {
  it('RFC 9111 §5.2.2.3: must-understand overrides no-store for a status code the cache implements', async () => {
    const o = origin(() => ok('b', { 'cache-control': 'max-age=60, no-store, must-understand' }));
    const h = makeCache(new Clock()).wrap(o.handler);
    await send(h, request('/mu'));
    assert.equal((await send(h, request('/mu'))).headers['x-cache'], 'HIT');
    assert.equal(o.calls.length, 1);
  });

  it('RFC 9111 §5.2.2.3: must-understand on a status code the cache does not implement is not stored', async () => {
    const o = origin(() => ok('b', { 'cache-control': 'max-age=60, must-understand' }, 226));
    const h = makeCache(new Clock()).wrap(o.handler);
    await send(h, request('/mu226'));
    await send(h, request('/mu226'));
    assert.equal(o.calls.length, 2);
  });

  it('RFC 9111 §5.2.2.3: a request no-store still wins over must-understand', async () => {
    const o = origin(() => ok('b', { 'cache-control': 'max-age=60, no-store, must-understand' }));
    const h = makeCache(new Clock()).wrap(o.handler);
    await send(h, request('/mur', { 'cache-control': 'no-store' }));
    await send(h, request('/mur'));
    assert.equal(o.calls.length, 2);
  });

  it('RFC 9111 §3.2 / §4.3.4: a 304 updating a stored response does not bring Set-Cookie or private="…" fields into it', async () => {
    const clock = new Clock();
    const o = origin((req, n) => (n === 1
      ? ok('v1', { 'cache-control': 'max-age=10', etag: '"a"' })
      : { status: 304, headers: { etag: '"a"', 'cache-control': 'max-age=60, private="x-user"', 'set-cookie': 'sid=alice', 'x-user': 'alice' }, body: null }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/sc'));
    clock.advance(20);
    await send(h, request('/sc'));
    const r = await send(h, request('/sc'));
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.equal(r.headers['set-cookie'], undefined);
    assert.equal(r.headers['x-user'], undefined);
    assert.equal(o.calls.length, 2);
  });

  it('RFC 9111 §4.4: with keyHeaders, an unsafe request invalidates every keyed entry of the target', async () => {
    const o = origin((req) => (req.method === 'GET' ? ok(`t=${req.headers['x-tenant']}`, { 'cache-control': 'max-age=600' }) : ok('done', {}, 204)));
    const h = makeCache(new Clock(), { keyHeaders: ['x-tenant'] }).wrap(o.handler);
    await send(h, request('/k', { 'x-tenant': 'a' }));
    await send(h, request('/k', { 'x-tenant': 'b' }));
    await send(h, request('/k', { 'x-tenant': 'a' }, 'POST'));
    await send(h, request('/k', { 'x-tenant': 'a' }));
    await send(h, request('/k', { 'x-tenant': 'b' }));
    assert.equal(o.calls.filter((c) => c.method === 'GET').length, 4);
  });

  it('RFC 9111 §4.2.3: a stored response\'s facts are worked out once, and a stored Age still counts on every hit', async () => {
    const clock = new Clock();
    const o = origin(() => ok('b', { 'cache-control': 'max-age=100', age: '30', date: clock.date() }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/age'));
    clock.advance(10);
    assert.equal((await send(h, request('/age'))).headers['age'], '40');
    clock.advance(60);
    const stale = await send(h, request('/age'));
    assert.equal(stale.headers['x-cache'], 'MISS', '30 + 70 s is past max-age=100');
  });

  it('RFC 9211 §2.2: a fresh response refused by the request\'s no-cache is forwarded as fwd=request', async () => {
    const o = origin(() => ok('b', { 'cache-control': 'max-age=600', etag: '"a"' }));
    const h = makeCache(new Clock()).wrap(o.handler);
    await send(h, request('/fr'));
    const r = await send(h, request('/fr', { 'cache-control': 'no-cache' }));
    assert.match(String(r.headers['cache-status']), /^portico; fwd=request; fwd-status=200/);
  });

  it('RFC 9111 §4.3.4: a 304 without ETag whose Last-Modified differs from the stored one does not update it', async () => {
    const clock = new Clock();
    const lm = (y: number) => new Date(Date.UTC(y, 0, 1)).toUTCString();
    const o = origin((req, n) => {
      if (n === 1) return ok('v1', { 'cache-control': 'max-age=10', 'last-modified': lm(2024) });
      if (n === 2) return { status: 304, headers: { 'last-modified': lm(2025), 'cache-control': 'max-age=600' }, body: null };
      return ok('v2', { 'cache-control': 'max-age=10', 'last-modified': lm(2025) });
    });
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/lm304'));
    clock.advance(20);
    const r = await send(h, request('/lm304'));
    assert.equal(r.text, 'v2');
    assert.equal(o.calls[2].headers['if-modified-since'], undefined);
  });

  it('RFC 9111 §5.2.1.1 / RFC 5861 §3: a request max-age (a browser reload\'s max-age=0) is not answered stale-while-revalidate', async () => {
    const clock = new Clock();
    const o = origin((req, n) => ok(`v${n}`, { 'cache-control': 'max-age=10, stale-while-revalidate=60' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/reload'));
    clock.advance(20);
    const r = await send(h, request('/reload', { 'cache-control': 'max-age=0' }));
    assert.equal(r.text, 'v2');
    assert.equal(r.headers['x-cache'], 'MISS');
    clock.advance(20);
    assert.equal((await send(h, request('/reload', { 'cache-control': 'min-fresh=5' }))).text, 'v3');
  });

  it('RFC 9111 §5.2.1.7: only-if-cached takes a stale response stale-while-revalidate allows, and a 504 past it', async () => {
    const clock = new Clock();
    const o = origin((req, n) => ok(`v${n}`, { 'cache-control': 'max-age=10, stale-while-revalidate=30' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/oic'));
    clock.advance(20);
    const within = await send(h, request('/oic', { 'cache-control': 'only-if-cached' }));
    assert.equal(within.text, 'v1');
    assert.equal(within.headers['x-cache'], 'STALE');
    clock.advance(100);
    const past = await send(h, request('/oic', { 'cache-control': 'only-if-cached' }));
    assert.equal(past.status, 504);
  });
});
