// Coalescing across instances that share a Redis store (coalesce-lock.ts), against a real
// redis-server this file starts on a loopback port: one instance fetches, the others wait for it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useRedisServer } from './redis-test-server.ts';
import { waitFor } from '../../test/helpers/servers.ts';
import type { PorticoResponse } from '../http/types.ts';
import { RedisCacheStore } from './redis-store.ts';
import { Clock, makeCache, ok, origin, request, send } from './test-helpers.ts';

const { client } = useRedisServer();
let n = 0;

/** A Redis store that counts how often a waiter asked whether the lock is held. */
class WatchedStore extends RedisCacheStore {
  polls = 0;
  override async locked(primary: string): Promise<boolean> {
    this.polls++;
    return super.locked(primary);
  }
}

/** Two caches on one Redis prefix, and an origin whose first answer waits until the test releases it. */
async function twoInstances(first: PorticoResponse, coalesceTimeout = 10_000) {
  const prefix = `co${++n}:`;
  let release!: () => void;
  const held = new Promise<void>((resolve) => { release = resolve; });
  const o = origin(async (_req, i) => {
    if (i === 1) {
      await held;
      return first;
    }
    return ok(`v${i}`, { 'cache-control': 'max-age=600' });
  });
  const clock = new Clock();
  const storeB = new WatchedStore({ client: await client(), prefix });
  const a = makeCache(clock, { store: new RedisCacheStore({ client: await client(), prefix }), coalesceTimeout }).wrap(o.handler);
  const b = makeCache(clock, { store: storeB, coalesceTimeout }).wrap(o.handler);
  return { o, a, b, storeB, release };
}

describe('RFC 9111 §4 coalescing across instances sharing Redis', () => {
  it('concurrent misses on two instances make exactly 1 upstream request; the other instance serves what the first stored', async () => {
    const { o, a, b, storeB, release } = await twoInstances(ok('v1', { 'cache-control': 'max-age=600' }));
    const fromA = Array.from({ length: 5 }, () => send(a, request('/x')));
    await waitFor(() => o.calls.length === 1, 'the first fetch');
    const fromB = Array.from({ length: 5 }, () => send(b, request('/x')));
    await waitFor(() => storeB.polls > 0, 'instance B waiting on the lock');
    release();
    const all = await Promise.all([...fromA, ...fromB]);
    assert.equal(o.calls.length, 1);
    for (const r of all) assert.equal(r.text, 'v1');
    const b0 = all[5];
    assert.match(String(b0.headers['cache-status']), /^portico; fwd=uri-miss; fwd-status=200; collapsed$/);
  });

  it('a response that turns out not storable releases the other instance\'s waiters at once, to fetch themselves', async () => {
    const { o, a, b, storeB, release } = await twoInstances(ok('private', { 'cache-control': 'no-store' }));
    const fromA = send(a, request('/p'));
    await waitFor(() => o.calls.length === 1, 'the first fetch');
    const started = performance.now();
    const fromB = send(b, request('/p'));
    await waitFor(() => storeB.polls > 0, 'instance B waiting on the lock');
    release();
    assert.equal((await fromA).text, 'private');
    assert.equal((await fromB).text, 'v2');
    assert.ok(performance.now() - started < 5_000, 'well before the 10 s coalescing timeout');
    assert.equal(o.calls.length, 2);
  });

  it('a holder that does not answer within coalesceTimeout: the other instance fetches itself', async () => {
    const { o, a, b, release } = await twoInstances(ok('late', { 'cache-control': 'max-age=600' }), 200);
    const fromA = send(a, request('/slow'));
    await waitFor(() => o.calls.length === 1, 'the first fetch');
    const r = await send(b, request('/slow'));
    assert.equal(r.text, 'v2');
    assert.equal(o.calls.length, 2);
    release();
    assert.equal((await fromA).text, 'late');
  });

  it('with a flight field (compress below the cache), the lock is per coding: another coding does not wait, the same one does', async () => {
    const prefix = `ae${++n}:`;
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const o = origin(async (req, i) => {
      if (i === 1) await held;
      return ok(`${req.headers['accept-encoding']} ${i}`, { 'cache-control': 'max-age=600', vary: 'Accept-Encoding' });
    });
    const clock = new Clock();
    const storeB = new WatchedStore({ client: await client(), prefix });
    const field = { flightField: 'accept-encoding' };
    const a = makeCache(clock, { store: new RedisCacheStore({ client: await client(), prefix }) }).wrap(o.handler, field);
    const b = makeCache(clock, { store: storeB }).wrap(o.handler, field);
    const gzipA = send(a, request('/v', { 'accept-encoding': 'gzip' }));
    await waitFor(() => o.calls.length === 1, 'the gzip fetch');
    const started = performance.now();
    const brB = await send(b, request('/v', { 'accept-encoding': 'br' }));
    assert.equal(brB.text, 'br 2', 'fetched while the gzip fetch is still held');
    assert.equal(storeB.polls, 0, 'without waiting on the gzip lock');
    assert.ok(performance.now() - started < 5_000, 'well before the coalescing timeout');
    const gzipB = send(b, request('/v', { 'accept-encoding': 'gzip' }));
    await waitFor(() => storeB.polls > 0, 'instance B waiting on the gzip lock');
    release();
    assert.equal((await gzipA).text, 'gzip 1');
    assert.equal((await gzipB).text, 'gzip 1', 'the gzip variant instance A stored');
    assert.equal(o.calls.length, 2);
  });

  it('the fetch lock is exclusive, expires, and is only given back by its holder', async () => {
    const s = new RedisCacheStore({ client: await client(), prefix: `lock${++n}:` });
    const first = await s.lock('k', 100);
    assert.notEqual(first, null);
    assert.equal(await s.lock('k', 100), null);
    await waitFor(async () => !(await s.locked('k')), 'the lock to expire');
    const second = await s.lock('k', 10_000);
    assert.notEqual(second, null);
    await first!();
    assert.equal(await s.locked('k'), true, 'an expired holder does not free the next holder\'s lock');
    await second!();
    assert.equal(await s.locked('k'), false);
  });
});
