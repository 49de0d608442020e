// RFC 9111 §3 (storing), §4.1 (Vary), §4.2 (freshness, age): one test per rule.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Clock, makeCache, ok, origin, request, send } from './test-helpers.ts';
import type { ResponseHeaders } from '../http/types.ts';

/** Asks twice: whether the second request reached the origin tells whether the first response was stored. */
async function storedAfterOne(headers: ResponseHeaders, reqHeaders: Record<string, string> = {}, status = 200): Promise<boolean> {
  const clock = new Clock();
  const o = origin(() => ok('body', headers, status));
  const h = makeCache(clock).wrap(o.handler);
  await send(h, request('/r', reqHeaders));
  await send(h, request('/r', reqHeaders));
  return o.calls.length === 1;
}

describe('RFC 9111 §3 storing responses', () => {
  it('RFC 9111 §4.2: a fresh stored response is served without contacting the origin, with Cache-Status, X-Cache and Server-Timing', async () => {
    const clock = new Clock();
    const o = origin(() => ok('hello', { 'cache-control': 'max-age=60' }));
    const h = makeCache(clock).wrap(o.handler);
    const first = await send(h, request('/a'));
    assert.equal(first.text, 'hello');
    assert.equal(first.headers['cache-status'], 'portico; fwd=uri-miss; fwd-status=200; stored');
    assert.equal(first.headers['x-cache'], 'MISS');
    assert.match(first.timing, /^cache;desc=miss;dur=/);
    clock.advance(10);
    const second = await send(h, request('/a'));
    assert.equal(second.text, 'hello');
    assert.equal(second.headers['cache-status'], 'portico; hit; ttl=50');
    assert.equal(second.headers['x-cache'], 'HIT');
    assert.match(second.timing, /^cache;desc=hit;dur=/);
    assert.equal(o.calls.length, 1);
  });

  it('RFC 9111 §3: no-store in the response prevents storing', async () => {
    assert.equal(await storedAfterOne({ 'cache-control': 'max-age=60, no-store' }), false);
  });

  it('RFC 9111 §5.2.1.5: no-store in the request prevents storing', async () => {
    assert.equal(await storedAfterOne({ 'cache-control': 'max-age=60' }, { 'cache-control': 'no-store' }), false);
  });

  it('RFC 9111 §5.2.2.7: a shared cache does not store a private response', async () => {
    assert.equal(await storedAfterOne({ 'cache-control': 'private, max-age=60' }), false);
  });

  it('RFC 9111 §5.2.2.7: private="field" stores the response without that field', async () => {
    const clock = new Clock();
    const o = origin(() => ok('x', { 'cache-control': 'max-age=60, private="x-user"', 'x-user': 'alice' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/p'));
    const hit = await send(h, request('/p'));
    assert.equal(o.calls.length, 1);
    assert.equal(hit.headers['x-user'], undefined);
  });

  it('RFC 9111 §5.2.2.4: no-cache="field" stores the response without that field', async () => {
    const clock = new Clock();
    const o = origin(() => ok('x', { 'cache-control': 'max-age=60, no-cache="x-session"', 'x-session': 's1' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/n'));
    const hit = await send(h, request('/n'));
    assert.equal(o.calls.length, 1);
    assert.equal(hit.headers['x-session'], undefined);
  });

  it('RFC 9111 §3.5: a response to a request with Authorization is not stored by default', async () => {
    assert.equal(await storedAfterOne({ 'cache-control': 'max-age=60' }, { authorization: 'Bearer a' }), false);
  });

  for (const directive of ['public', 's-maxage=60', 'must-revalidate']) {
    it(`RFC 9111 §3.5: a response to a request with Authorization is stored with ${directive}`, async () => {
      assert.equal(await storedAfterOne({ 'cache-control': `max-age=60, ${directive}` }, { authorization: 'Bearer a' }), true);
    });
  }

  it('RFC 9111 §3: a status that is not cacheable by default (500) without explicit freshness is not stored', async () => {
    assert.equal(await storedAfterOne({ 'last-modified': new Date(0).toUTCString() }, {}, 500), false);
  });

  it('RFC 9111 §3: a status that is not cacheable by default (302) is stored with explicit max-age', async () => {
    assert.equal(await storedAfterOne({ 'cache-control': 'max-age=60', location: '/x' }, {}, 302), true);
  });

  it('RFC 9111 §3: POST responses are not stored', async () => {
    const clock = new Clock();
    const o = origin(() => ok('x', { 'cache-control': 'max-age=60' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/post', {}, 'POST'));
    await send(h, request('/post'));
    assert.equal(o.calls.length, 2);
  });

  it('a response with Set-Cookie is not stored (one user\'s cookie must not reach the next)', async () => {
    assert.equal(await storedAfterOne({ 'cache-control': 'max-age=60', 'set-cookie': 'sid=1' }), false);
  });

  it('RFC 9111 §3: a response with no lifetime and no validator is not kept', async () => {
    assert.equal(await storedAfterOne({}), false);
  });
});

describe('RFC 9111 §4.2 freshness and age', () => {
  async function lifetimeProbe(headers: (c: Clock) => ResponseHeaders, after: number, reqHeaders: Record<string, string> = {}) {
    const clock = new Clock();
    const o = origin(() => ok('b', headers(clock)));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/f'));
    clock.advance(after);
    const r = await send(h, request('/f', reqHeaders));
    return { calls: o.calls.length, r };
  }

  it('RFC 9111 §4.2.1: s-maxage overrides max-age in a shared cache', async () => {
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 'max-age=10, s-maxage=100' }), 50)).calls, 1);
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 'max-age=100, s-maxage=10' }), 50)).calls, 2);
  });

  it('RFC 9111 §4.2.1: Expires minus Date gives the lifetime when there is no max-age', async () => {
    assert.equal((await lifetimeProbe((c) => ({ date: c.date(), expires: c.date(30) }), 20)).calls, 1);
    assert.equal((await lifetimeProbe((c) => ({ date: c.date(), expires: c.date(30) }), 40)).calls, 2);
  });

  it('RFC 9111 §5.3: an invalid Expires ("0") means already expired', async () => {
    assert.equal((await lifetimeProbe(() => ({ expires: '0', etag: '"e"' }), 0)).calls, 2);
  });

  it('RFC 9111 §5.2.2.1: an invalid max-age ("max-age=abc") makes the response stale, even with a later Expires', async () => {
    assert.equal((await lifetimeProbe((c) => ({ 'cache-control': 'max-age=abc', date: c.date(), expires: c.date(600), etag: '"e"' }), 1)).calls, 2);
  });

  it('RFC 9111 §4.2.1: of two max-age directives the first is used', async () => {
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 'max-age=100, max-age=10' }), 50)).calls, 1);
  });

  it('RFC 9111 §4.2.1: max-age takes precedence over Expires', async () => {
    assert.equal((await lifetimeProbe((c) => ({ 'cache-control': 'max-age=100', date: c.date(), expires: c.date(10) }), 50)).calls, 1);
  });

  it('RFC 9111 §4.2.2: heuristic freshness is a fraction (10%) of the time since Last-Modified', async () => {
    // Modified 1000 s before Date → 100 s of heuristic freshness.
    assert.equal((await lifetimeProbe((c) => ({ date: c.date(), 'last-modified': c.date(-1000) }), 90)).calls, 1);
    assert.equal((await lifetimeProbe((c) => ({ date: c.date(), 'last-modified': c.date(-1000) }), 110)).calls, 2);
  });

  it('RFC 9111 §4.2.2: heuristic freshness is bounded (maxHeuristic)', async () => {
    // Modified a year ago → 36 days by the fraction, capped at one day.
    const headers = (c: Clock) => ({ date: c.date(), 'last-modified': c.date(-365 * 86400) });
    assert.equal((await lifetimeProbe(headers, 86_000)).calls, 1);
    assert.equal((await lifetimeProbe(headers, 87_000)).calls, 2);
  });

  it('RFC 9111 §4.2.2: no heuristic freshness for a status that is not heuristically cacheable', async () => {
    const clock = new Clock();
    const o = origin(() => ok('b', { date: clock.date(), 'last-modified': clock.date(-1000), 'cache-control': 'stale-if-error=60' }, 302));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/h'));
    await send(h, request('/h'));
    assert.equal(o.calls.length, 2);
  });

  it('RFC 9111 §4.2.3: Age is the upstream Age plus the response delay plus the time resident in the cache', async () => {
    const clock = new Clock();
    const o = origin(async () => { clock.advance(2); return ok('b', { 'cache-control': 'max-age=600', age: '10', date: clock.date() }); });
    const h = makeCache(clock).wrap(o.handler);
    const miss = await send(h, request('/age'));
    assert.equal(miss.headers['age'], '10');
    clock.advance(5);
    const hit = await send(h, request('/age'));
    // corrected_initial_age = 10 + 2 (response_delay); resident 5.
    assert.equal(hit.headers['age'], '17');
  });

  it('RFC 9111 §4.2.3: apparent age from a Date in the past counts when larger than Age', async () => {
    const clock = new Clock();
    const o = origin(() => ok('b', { 'cache-control': 'max-age=600', date: clock.date(-30) }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/old'));
    const hit = await send(h, request('/old'));
    assert.equal(hit.headers['age'], '30');
  });

  it('RFC 9111 §4.2.3: an age past the lifetime makes the response stale (Age counts against max-age)', async () => {
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 'max-age=60', age: '50' }), 15)).calls, 2);
  });

  it('RFC 9111 §5.2.1.1: request max-age=N refuses a stored response older than N', async () => {
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 'max-age=600' }), 30, { 'cache-control': 'max-age=10' })).calls, 2);
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 'max-age=600' }), 5, { 'cache-control': 'max-age=10' })).calls, 1);
  });

  it('RFC 9111 §5.2.1.3: request min-fresh refuses a response fresh for less than N more seconds', async () => {
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 'max-age=60' }), 50, { 'cache-control': 'min-fresh=20' })).calls, 2);
  });

  it('RFC 9111 §5.2.1.2: request max-stale accepts a stale response, but not past s-maxage (§5.2.2.10)', async () => {
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 'max-age=10' }), 20, { 'cache-control': 'max-stale=30' })).calls, 1);
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 'max-age=10' }), 50, { 'cache-control': 'max-stale=30' })).calls, 2);
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 's-maxage=10' }), 20, { 'cache-control': 'max-stale=30' })).calls, 2);
    assert.equal((await lifetimeProbe(() => ({ 'cache-control': 'max-age=10, must-revalidate' }), 20, { 'cache-control': 'max-stale' })).calls, 2);
  });

  it('RFC 9111 §5.2.1.7: only-if-cached with nothing stored answers 504', async () => {
    const o = origin(() => ok('b'));
    const r = await send(makeCache(new Clock()).wrap(o.handler), request('/none', { 'cache-control': 'only-if-cached' }));
    assert.equal(r.status, 504);
    assert.equal(o.calls.length, 0);
  });

  it('RFC 9110 §9.3.2: a stored GET response answers HEAD, without content', async () => {
    const clock = new Clock();
    const o = origin(() => ok('hello', { 'cache-control': 'max-age=60' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/head'));
    const r = await send(h, request('/head', {}, 'HEAD'));
    assert.equal(o.calls.length, 1);
    assert.equal(r.text, '');
    assert.equal(r.headers['content-length'], '5');
  });
});

describe('RFC 9111 §4.1 keys and Vary', () => {
  it('RFC 9111 §4.1: Vary keeps one variant per value of the named field, all served', async () => {
    const clock = new Clock();
    const o = origin((req) => ok(`lang=${req.headers['accept-language']}`, { 'cache-control': 'max-age=60', vary: 'Accept-Language' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/v', { 'accept-language': 'en' }));
    await send(h, request('/v', { 'accept-language': 'fr' }));
    const en = await send(h, request('/v', { 'accept-language': 'en' }));
    const fr = await send(h, request('/v', { 'accept-language': 'fr' }));
    assert.deepEqual([en.text, fr.text], ['lang=en', 'lang=fr']);
    assert.equal(o.calls.length, 2);
    assert.equal(en.headers['x-cache'], 'HIT');
  });

  it('RFC 9111 §4.1: a request without the varied field does not match a variant stored with it', async () => {
    const clock = new Clock();
    const o = origin(() => ok('x', { 'cache-control': 'max-age=60', vary: 'accept-encoding' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/v2', { 'accept-encoding': 'gzip' }));
    const r = await send(h, request('/v2'));
    assert.equal(o.calls.length, 2);
    assert.match(String(r.headers['cache-status']), /fwd=vary-miss/);
  });

  it('RFC 9111 §4.1: field values match after whitespace normalisation', async () => {
    const clock = new Clock();
    const o = origin(() => ok('x', { 'cache-control': 'max-age=60', vary: 'accept-encoding' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/v3', { 'accept-encoding': 'gzip,  br' }));
    await send(h, request('/v3', { 'accept-encoding': 'gzip, br' }));
    assert.equal(o.calls.length, 1);
  });

  it('RFC 9111 §4.1: Vary: * never matches, so it is never served from the cache', async () => {
    assert.equal(await storedAfterOne({ 'cache-control': 'max-age=60', vary: '*' }), false);
  });

  it('RFC 9111 §4.1: the primary key includes the host and the query; percent-encoding of unreserved characters is normalised', async () => {
    const clock = new Clock();
    const o = origin((req) => ok(req.target, { 'cache-control': 'max-age=60' }));
    const h = makeCache(clock).wrap(o.handler);
    const { context } = await import('./test-helpers.ts');
    await send(h, request('/k?a=1'), context('a.example'));
    await send(h, request('/k?a=1'), context('b.example'));
    await send(h, request('/k?a=2'), context('a.example'));
    assert.equal(o.calls.length, 3);
    await send(h, request('/%7Euser'), context('a.example'));
    await send(h, request('/~user'), context('a.example'));
    assert.equal(o.calls.length, 4);
  });

  it('keyHeaders: configured request fields are part of the primary key', async () => {
    const clock = new Clock();
    const o = origin((req) => ok(String(req.headers['x-tenant']), { 'cache-control': 'max-age=60' }));
    const h = makeCache(clock, { keyHeaders: ['x-tenant'] }).wrap(o.handler);
    await send(h, request('/t', { 'x-tenant': 'a' }));
    const b = await send(h, request('/t', { 'x-tenant': 'b' }));
    assert.equal(b.text, 'b');
    assert.equal(o.calls.length, 2);
  });
});
