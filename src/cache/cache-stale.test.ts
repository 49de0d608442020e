// RFC 5861: stale-while-revalidate and stale-if-error (and the configured grace), on a controllable clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Clock, makeCache, ok, origin, request, send } from './test-helpers.ts';
import { waitFor } from '../../test/helpers/servers.ts';
import { BadGatewayError, ServiceUnavailableError } from '../http/errors.ts';
import type { PorticoResponse } from '../http/types.ts';

describe('RFC 5861 §3 stale-while-revalidate', () => {
  it('RFC 5861 §3: within the window the stale response is served at once and validated once in the background', async () => {
    const clock = new Clock();
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const o = origin(async (req, n) => {
      if (n === 1) return ok('v1', { 'cache-control': 'max-age=10, stale-while-revalidate=30', etag: '"a"' });
      await gate;
      return ok('v2', { 'cache-control': 'max-age=10, stale-while-revalidate=30', etag: '"b"' });
    });
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/swr'));
    clock.advance(20);
    const a = await send(h, request('/swr'));
    const b = await send(h, request('/swr'));
    for (const r of [a, b]) {
      assert.equal(r.text, 'v1');
      assert.equal(r.headers['x-cache'], 'STALE');
      assert.equal(r.headers['cache-status'], 'portico; hit; ttl=-10; detail=stale-while-revalidate');
      assert.match(r.timing, /^cache;desc=stale/);
    }
    assert.equal(o.calls.length, 2, 'one background validation for both stale answers');
    assert.equal(o.calls[1].headers['if-none-match'], '"a"');
    release();
    await waitFor(async () => (await send(h, request('/swr'))).text === 'v2', 'the background validation to store v2');
    assert.equal(o.calls.length, 2);
  });

  it('RFC 5861 §3: past the window the cache validates before answering', async () => {
    const clock = new Clock();
    const o = origin((req, n) => ok(`v${n}`, { 'cache-control': 'max-age=10, stale-while-revalidate=30' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/swr2'));
    clock.advance(50);
    const r = await send(h, request('/swr2'));
    assert.equal(r.text, 'v2');
    assert.equal(r.headers['x-cache'], 'MISS');
  });

  it('RFC 9111 §4.2.4: must-revalidate forbids serving stale even within stale-while-revalidate', async () => {
    const clock = new Clock();
    const o = origin((req, n) => ok(`v${n}`, { 'cache-control': 'max-age=10, must-revalidate, stale-while-revalidate=30' }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/swr3'));
    clock.advance(20);
    assert.equal((await send(h, request('/swr3'))).text, 'v2');
  });
});

describe('RFC 5861 §4 stale-if-error', () => {
  const stored = 'max-age=10, stale-if-error=60';
  async function afterFailure(cacheControl: string, fail: () => PorticoResponse | never, after: number, grace = 0, reqHeaders: Record<string, string> = {}) {
    const clock = new Clock();
    const o = origin((req, n) => (n === 1 ? ok('v1', { 'cache-control': cacheControl, etag: '"a"' }) : fail()));
    const h = makeCache(clock, { grace }).wrap(o.handler);
    await send(h, request('/sie'));
    clock.advance(after);
    return send(h, request('/sie', reqHeaders));
  }

  it('RFC 5861 §4: an upstream 5xx within the window is answered with the stale response', async () => {
    const r = await afterFailure(stored, () => ok('boom', {}, 500), 30);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'v1');
    assert.equal(r.headers['cache-status'], 'portico; fwd=stale; fwd-status=500; detail=stale-if-error');
    assert.equal(r.headers['x-cache'], 'STALE');
    assert.equal(r.headers['age'], '30');
  });

  for (const [name, err] of [['503 (every backend down)', new ServiceUnavailableError('no server', 'NO_UPSTREAM')], ['502 (connection refused)', new BadGatewayError('refused')]] as const) {
    it(`RFC 5861 §4: a thrown ${name} from the proxy is answered with the stale response`, async () => {
      const r = await afterFailure(stored, () => { throw err; }, 30);
      assert.equal(r.text, 'v1');
      assert.match(String(r.headers['cache-status']), new RegExp(`fwd-status=${err.status}; detail=stale-if-error`));
    });
  }

  it('RFC 5861 §4: past the window the error goes to the client', async () => {
    const r = await afterFailure(stored, () => ok('boom', {}, 500), 100);
    assert.equal(r.status, 500);
    await assert.rejects(afterFailure(stored, () => { throw new ServiceUnavailableError('down'); }, 100), { status: 503 });
  });

  it('RFC 9111 §4.2.4: must-revalidate forbids stale-if-error', async () => {
    const r = await afterFailure('max-age=10, must-revalidate, stale-if-error=60', () => ok('boom', {}, 503), 30);
    assert.equal(r.status, 503);
  });

  it('RFC 5861 §4: the request directive stale-if-error allows it too', async () => {
    const r = await afterFailure('max-age=10', () => ok('boom', {}, 502), 30, 0, { 'cache-control': 'stale-if-error=60' });
    assert.equal(r.text, 'v1');
  });

  it('grace: without stale-if-error, the configured grace lets stale content stand in for a down origin', async () => {
    const down = () => { throw new ServiceUnavailableError('down'); };
    assert.equal((await afterFailure('max-age=10', down, 30, 60_000)).text, 'v1');
    await assert.rejects(afterFailure('max-age=10', down, 30, 0), { status: 503 });
    await assert.rejects(afterFailure('max-age=10', down, 100, 60_000), { status: 503 });
  });

  it('a 4xx from the origin is not an error that stale content hides', async () => {
    const r = await afterFailure(stored, () => ok('gone', {}, 404), 30);
    assert.equal(r.status, 404);
  });
});
