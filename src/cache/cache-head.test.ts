// RFC 9111 §4.3.5 (a HEAD response freshens or invalidates stored GET responses) and HEAD served
// from a stored GET response (RFC 9110 §9.3.2, RFC 9111 §4).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PorticoRequest, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import { Clock, makeCache, ok, origin, request, send } from './test-helpers.ts';

const LM = new Date(Date.UTC(2025, 0, 1)).toUTCString();

/** A GET stored with `get` fields (body `v1`, 2 bytes), then an origin whose HEAD answers 200 with `head` fields. */
function setup(get: ResponseHeaders, head: ResponseHeaders) {
  const clock = new Clock();
  const o = origin((req: PorticoRequest, n): PorticoResponse => {
    if (req.method === 'HEAD') return { status: 200, headers: { 'content-type': 'text/plain', ...head }, body: null };
    if (req.headers['if-none-match'] !== undefined && n > 1) return { status: 304, headers: { etag: req.headers['if-none-match'] }, body: null };
    return ok(n === 1 ? 'v1' : 'v2', get);
  });
  return { clock, o, h: makeCache(clock).wrap(o.handler) };
}

describe('RFC 9111 §4.3.5 HEAD and stored GET responses', () => {
  it('RFC 9110 §9.3.2 / RFC 9111 §4: a HEAD on a miss goes upstream as HEAD and stores nothing', async () => {
    const { o, h } = setup({ 'cache-control': 'max-age=60' }, { 'cache-control': 'max-age=60', 'content-length': '2' });
    const r = await send(h, request('/m', {}, 'HEAD'));
    assert.equal(r.status, 200);
    assert.equal(o.calls[0].method, 'HEAD');
    await send(h, request('/m'));
    assert.equal(o.calls.length, 2);
    assert.equal(o.calls[1].method, 'GET');
  });

  it('RFC 9111 §4.3.5: a HEAD 200 whose validators and Content-Length match freshens the stored GET response', async () => {
    const { clock, o, h } = setup(
      { 'cache-control': 'max-age=10', etag: '"a"', 'last-modified': LM, 'x-version': '1' },
      { 'cache-control': 'max-age=100', etag: '"a"', 'last-modified': LM, 'content-length': '2', 'x-version': '2' },
    );
    await send(h, request('/f'));
    clock.advance(20);
    const head = await send(h, request('/f', {}, 'HEAD'));
    assert.equal(o.calls[1].method, 'HEAD');
    assert.equal(head.text, '');
    clock.advance(30);
    const r = await send(h, request('/f'));
    assert.equal(o.calls.length, 2, 'the GET is a hit: the HEAD restarted its freshness');
    assert.equal(r.headers['x-version'], '2');
    assert.equal(r.headers['content-length'], '2');
    assert.equal(r.headers['age'], '30');
    assert.equal(r.text, 'v1');
  });

  it('RFC 9111 §4.3.5: a HEAD 200 with another ETag marks the stored response stale, so the next GET validates', async () => {
    const { o, h } = setup({ 'cache-control': 'max-age=600', etag: '"a"' }, { 'cache-control': 'max-age=600', etag: '"b"' });
    await send(h, request('/e'));
    // no-cache makes the HEAD go upstream although the stored GET response is fresh (§5.2.1.4).
    await send(h, request('/e', { 'cache-control': 'no-cache' }, 'HEAD'));
    const r = await send(h, request('/e'));
    assert.equal(o.calls.length, 3);
    assert.equal(o.calls[2].method, 'GET');
    assert.equal(o.calls[2].headers['if-none-match'], '"a"');
    assert.equal(r.headers['cache-status'], 'portico; fwd=stale; fwd-status=304');
  });

  it('RFC 9111 §4.3.5: a HEAD 200 whose Content-Length differs marks the stored response stale', async () => {
    const { o, h } = setup({ 'cache-control': 'max-age=600', etag: '"a"' }, { 'cache-control': 'max-age=600', etag: '"a"', 'content-length': '7' });
    await send(h, request('/l'));
    await send(h, request('/l', { 'cache-control': 'no-cache' }, 'HEAD'));
    await send(h, request('/l'));
    assert.equal(o.calls.length, 3);
    assert.equal(o.calls[2].headers['if-none-match'], '"a"');
  });

  it('RFC 9111 §4.3.5: a HEAD 200 with another Last-Modified marks the stored response stale', async () => {
    const later = new Date(Date.UTC(2025, 5, 1)).toUTCString();
    const { o, h } = setup({ 'cache-control': 'max-age=600', 'last-modified': LM }, { 'cache-control': 'max-age=600', 'last-modified': later });
    await send(h, request('/lm'));
    await send(h, request('/lm', { 'cache-control': 'no-cache' }, 'HEAD'));
    await send(h, request('/lm'));
    assert.equal(o.calls.length, 3);
    assert.equal(o.calls[2].headers['if-modified-since'], LM);
  });

  it('RFC 9111 §4.3.5: a HEAD answered other than 200 changes nothing stored', async () => {
    const clock = new Clock();
    const o = origin((req) => (req.method === 'HEAD' ? { status: 404, headers: {}, body: null } : ok('v1', { 'cache-control': 'max-age=600', etag: '"a"' })));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/n'));
    assert.equal((await send(h, request('/n', { 'cache-control': 'no-cache' }, 'HEAD'))).status, 404);
    const r = await send(h, request('/n'));
    assert.equal(o.calls.length, 2);
    assert.equal(r.headers['x-cache'], 'HIT');
  });

  it('RFC 5861 §3: a HEAD answered stale-while-revalidate validates the stored GET response with a GET', async () => {
    const clock = new Clock();
    const o = origin((req, n) => (n === 1
      ? ok('v1', { 'cache-control': 'max-age=10, stale-while-revalidate=60', etag: '"a"' })
      : { status: 304, headers: { etag: '"a"', 'cache-control': 'max-age=100, stale-while-revalidate=60', 'x-fresh': 'yes' }, body: null }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/swr'));
    clock.advance(20);
    const r = await send(h, request('/swr', {}, 'HEAD'));
    assert.equal(r.headers['x-cache'], 'STALE');
    await waitUntil(() => o.calls.length === 2);
    assert.equal(o.calls[1].method, 'GET');
    await waitUntil(async () => (await send(h, request('/swr'))).headers['x-fresh'] === 'yes');
    assert.equal(o.calls.length, 2);
  });
});

/** Deadline-bounded polling for a background validation to land. */
async function waitUntil(test: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setImmediate(r));
  }
}
