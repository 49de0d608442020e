// RFC 9111 §4.3 (validation), §4.4 (invalidation) and client conditionals answered from the cache.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Clock, makeCache, ok, origin, request, send } from './test-helpers.ts';

describe('RFC 9111 §4.3 validation', () => {
  it('RFC 9111 §4.3.1: a stale response with an ETag is validated with If-None-Match', async () => {
    const clock = new Clock();
    const o = origin((req, n) => (n === 1 ? ok('v1', { 'cache-control': 'max-age=10', etag: '"a"' }) : { status: 304, headers: { etag: '"a"' }, body: null }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/s'));
    clock.advance(20);
    const r = await send(h, request('/s'));
    assert.equal(o.calls[1].headers['if-none-match'], '"a"');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'v1');
    assert.equal(r.headers['cache-status'], 'portico; fwd=stale; fwd-status=304');
    assert.match(r.timing, /^cache;desc=revalidated/);
  });

  it('RFC 9111 §4.3.1: a stale response with only Last-Modified is validated with If-Modified-Since', async () => {
    const clock = new Clock();
    const lm = new Date(Date.UTC(2025, 0, 1)).toUTCString();
    const o = origin((req, n) => (n === 1 ? ok('v1', { 'cache-control': 'max-age=10', 'last-modified': lm }) : { status: 304, headers: {}, body: null }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/s'));
    clock.advance(20);
    await send(h, request('/s'));
    assert.equal(o.calls[1].headers['if-modified-since'], lm);
    assert.equal(o.calls[1].headers['if-none-match'], undefined);
  });

  it('RFC 9111 §4.3.4: a 304 updates the stored headers and restarts freshness', async () => {
    const clock = new Clock();
    const o = origin((req, n) => (n === 1
      ? ok('v1', { 'cache-control': 'max-age=10', etag: '"a"', 'x-version': '1' })
      : { status: 304, headers: { etag: '"a"', 'cache-control': 'max-age=100', 'x-version': '2', 'content-length': '0' }, body: null }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/u'));
    clock.advance(20);
    await send(h, request('/u'));
    clock.advance(50);
    const r = await send(h, request('/u'));
    assert.equal(o.calls.length, 2);
    assert.equal(r.headers['x-version'], '2');
    assert.equal(r.headers['content-length'], '2');
    assert.equal(r.headers['age'], '50');
    assert.equal(r.text, 'v1');
  });

  it('RFC 9111 §4.3.4: a 304 naming a different ETag does not update the stored response; the full response is fetched', async () => {
    const clock = new Clock();
    const o = origin((req, n) => {
      if (n === 1) return ok('v1', { 'cache-control': 'max-age=10', etag: '"a"' });
      if (n === 2) return { status: 304, headers: { etag: '"b"' }, body: null };
      return ok('v2', { 'cache-control': 'max-age=10', etag: '"b"' });
    });
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/d'));
    clock.advance(20);
    const r = await send(h, request('/d'));
    assert.equal(r.text, 'v2');
    assert.equal(o.calls[2].headers['if-none-match'], undefined);
  });

  it('RFC 9111 §4.3.3: a full 200 to the validation replaces the stored response', async () => {
    const clock = new Clock();
    const o = origin((req, n) => ok(`v${n}`, { 'cache-control': 'max-age=10', etag: `"${n}"` }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/r'));
    clock.advance(20);
    assert.equal((await send(h, request('/r'))).text, 'v2');
    assert.equal((await send(h, request('/r'))).text, 'v2');
    assert.equal(o.calls.length, 2);
  });

  it('RFC 9111 §5.2.2.4: response no-cache means every reuse is validated first', async () => {
    const clock = new Clock();
    const o = origin((req, n) => (n === 1 ? ok('v1', { 'cache-control': 'no-cache, max-age=600', etag: '"a"' }) : { status: 304, headers: {}, body: null }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/nc'));
    const r = await send(h, request('/nc'));
    assert.equal(o.calls.length, 2);
    assert.equal(o.calls[1].headers['if-none-match'], '"a"');
    assert.equal(r.text, 'v1');
  });

  it('RFC 9111 §5.2.1.4: request no-cache makes the cache validate a fresh response', async () => {
    const clock = new Clock();
    const o = origin((req, n) => (n === 1 ? ok('v1', { 'cache-control': 'max-age=600', etag: '"a"' }) : { status: 304, headers: {}, body: null }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/rq'));
    await send(h, request('/rq', { 'cache-control': 'no-cache' }));
    assert.equal(o.calls.length, 2);
  });

  it('RFC 9111 §5.4: Pragma: no-cache counts as no-cache only without Cache-Control', async () => {
    const clock = new Clock();
    const o = origin(() => ok('v', { 'cache-control': 'max-age=600', etag: '"a"' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/pr'));
    await send(h, request('/pr', { pragma: 'no-cache', 'cache-control': 'max-age=600' }));
    assert.equal(o.calls.length, 1);
    await send(h, request('/pr', { pragma: 'no-cache' }));
    assert.equal(o.calls.length, 2);
  });

  it('RFC 9111 §4.3.2: a client If-None-Match matching the stored ETag gets 304 from the cache', async () => {
    const clock = new Clock();
    const o = origin(() => ok('body', { 'cache-control': 'max-age=60', etag: 'W/"a"' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/c'));
    const r = await send(h, request('/c', { 'if-none-match': '"x", "a"' }));
    assert.equal(r.status, 304);
    assert.equal(r.text, '');
    assert.equal(r.headers['etag'], 'W/"a"');
    assert.equal(r.headers['content-type'], undefined);
    const miss = await send(h, request('/c', { 'if-none-match': '"b"' }));
    assert.equal(miss.status, 200);
    assert.equal(o.calls.length, 1);
  });

  it('RFC 9111 §4.3.2: a client If-Modified-Since at or after Last-Modified gets 304 from the cache', async () => {
    const clock = new Clock();
    const lm = clock.date(-100);
    const o = origin(() => ok('body', { 'cache-control': 'max-age=60', 'last-modified': lm }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/ims'));
    assert.equal((await send(h, request('/ims', { 'if-modified-since': lm }))).status, 304);
    assert.equal((await send(h, request('/ims', { 'if-modified-since': clock.date(-200) }))).status, 200);
  });

  it('RFC 9111 §4.3.2: a miss fetches the full response without the client\'s conditionals, and answers them itself', async () => {
    const clock = new Clock();
    const o = origin(() => ok('body', { 'cache-control': 'max-age=60', etag: '"a"' }));
    const h = makeCache(clock).wrap(o.handler);
    const r = await send(h, request('/m', { 'if-none-match': '"a"' }));
    assert.equal(o.calls[0].headers['if-none-match'], undefined);
    assert.equal(r.status, 304);
    const full = await send(h, request('/m'));
    assert.equal(full.text, 'body');
    assert.equal(o.calls.length, 1);
  });
});

describe('RFC 9111 §4.4 invalidation', () => {
  const setup = () => {
    const clock = new Clock();
    const o = origin((req) => (req.method === 'GET'
      ? ok(`get ${req.target}`, { 'cache-control': 'max-age=600' })
      : ok('done', { location: '/items/7', 'content-location': 'http://example.com/items/8' }, 201)));
    return { o, h: makeCache(clock).wrap(o.handler) };
  };

  it('RFC 9111 §4.4: a successful unsafe request invalidates the target URI', async () => {
    const { o, h } = setup();
    await send(h, request('/items'));
    await send(h, request('/items', {}, 'POST'));
    await send(h, request('/items'));
    assert.equal(o.calls.filter((c) => c.method === 'GET').length, 2);
  });

  it('RFC 9111 §4.4: it invalidates the Location and Content-Location URIs on the same origin', async () => {
    const { o, h } = setup();
    for (const t of ['/items/7', '/items/8', '/items/9']) await send(h, request(t));
    await send(h, request('/items', {}, 'PUT'));
    for (const t of ['/items/7', '/items/8', '/items/9']) await send(h, request(t));
    assert.deepEqual(o.calls.filter((c) => c.method === 'GET').map((c) => c.target), ['/items/7', '/items/8', '/items/9', '/items/7', '/items/8']);
  });

  it('RFC 9111 §4.4: Location on another origin invalidates nothing there', async () => {
    const clock = new Clock();
    const o = origin((req) => (req.method === 'GET' ? ok('g', { 'cache-control': 'max-age=600' }) : ok('x', { location: 'http://other.example/a' }, 201)));
    const h = makeCache(clock).wrap(o.handler);
    const { context } = await import('./test-helpers.ts');
    await send(h, request('/a'), context('other.example'));
    await send(h, request('/post', {}, 'POST'));
    await send(h, request('/a'), context('other.example'));
    assert.equal(o.calls.filter((c) => c.method === 'GET').length, 1);
  });

  it('RFC 9111 §4.4: an error response to an unsafe request invalidates nothing', async () => {
    const clock = new Clock();
    const o = origin((req) => (req.method === 'GET' ? ok('g', { 'cache-control': 'max-age=600' }) : ok('no', {}, 500)));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/e'));
    await send(h, request('/e', {}, 'DELETE'));
    await send(h, request('/e'));
    assert.equal(o.calls.filter((c) => c.method === 'GET').length, 1);
  });

  it('purge() forgets every variant of a URL', async () => {
    const clock = new Clock();
    const o = origin(() => ok('g', { 'cache-control': 'max-age=600', vary: 'accept-language' }));
    const cache = makeCache(clock);
    const h = cache.wrap(o.handler);
    await send(h, request('/pg', { 'accept-language': 'en' }));
    await send(h, request('/pg', { 'accept-language': 'fr' }));
    assert.equal(await cache.purge('http', 'EXAMPLE.com', '/pg'), 2);
    await send(h, request('/pg', { 'accept-language': 'en' }));
    assert.equal(o.calls.length, 3);
  });

  it('purgeBy: a URL, a prefix (ban) and a Cache-Tag / Surrogate-Key tag each forget only what they name', async () => {
    const clock = new Clock();
    const tags: Record<string, Record<string, string>> = { '/api/1': { 'cache-tag': 'p1, list' }, '/api/2': { 'surrogate-key': 'p2 list' }, '/other': {} };
    const o = origin((req) => ok(req.target, { 'cache-control': 'max-age=600', ...tags[req.target] }));
    const cache = makeCache(clock);
    const h = cache.wrap(o.handler);
    const fill = async () => { for (const t of Object.keys(tags)) await send(h, request(t)); };
    const fetched = () => o.calls.map((c) => c.target);
    await fill();
    assert.equal(await cache.purgeBy({ tag: 'p2' }), 1);
    await fill();
    assert.deepEqual(fetched().slice(3), ['/api/2']);
    assert.equal(await cache.purgeBy({ prefix: 'http://example.com/api/' }), 2);
    await fill();
    assert.deepEqual(fetched().slice(4), ['/api/1', '/api/2']);
    assert.equal(await cache.purgeBy({ url: 'http://example.com/other' }), 1);
    assert.equal(await cache.purgeBy({ tag: 'list' }), 2);
    await fill();
    assert.deepEqual(fetched().slice(6), ['/api/1', '/api/2', '/other']);
  });

  it('PURGE <target> from an allowed address or with the token purges the URL; anyone else gets 403', async () => {
    const { purgeGuard } = await import('./purge-method.ts');
    const { context } = await import('./test-helpers.ts');
    const clock = new Clock();
    const o = origin((req, n) => ok(`v${n}`, { 'cache-control': 'max-age=600' }));
    const h = makeCache(clock, { purge: purgeGuard({ allow: ['10.0.0.0/8'], token: 's3cret' }) }).wrap(o.handler);
    const from = (address: string) => {
      const ctx = context();
      ctx.clientAddress = address;
      return ctx;
    };
    await send(h, request('/x'));
    await assert.rejects(async () => h(request('/x', {}, 'PURGE'), from('192.0.2.1')), { status: 403, code: 'PURGE_FORBIDDEN' });
    await assert.rejects(async () => h(request('/x', { authorization: 'Bearer wrong!' }, 'PURGE'), from('192.0.2.1')), { status: 403 });
    assert.equal((await send(h, request('/x'))).text, 'v1');
    const byAddress = await send(h, request('/x', {}, 'PURGE'), from('10.1.2.3'));
    assert.deepEqual([byAddress.status, JSON.parse(byAddress.text)], [200, { ok: true, purged: 1 }]);
    assert.equal((await send(h, request('/x'))).text, 'v2');
    const byToken = await send(h, request('/x', { authorization: 'Bearer s3cret' }, 'PURGE'), from('192.0.2.1'));
    assert.equal(JSON.parse(byToken.text).purged, 1);
    assert.equal(o.calls.filter((c) => c.method === 'PURGE').length, 0, 'PURGE never reaches the origin');
  });

  it('an error from the origin still closes the cache\'s Server-Timing entry', async () => {
    const { context } = await import('./test-helpers.ts');
    const { formatServerTiming } = await import('../http/context.ts');
    const h = makeCache(new Clock()).wrap(() => { throw new Error('down'); });
    const ctx = context();
    await assert.rejects(async () => h(request('/e'), ctx));
    assert.match(formatServerTiming(ctx.timings), /^cache;desc=error;dur=\d+\.\d$/);
  });
});
