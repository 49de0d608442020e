// The Redis store against a real redis-server this file starts on a loopback port and stops.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useRedisServer } from './redis-test-server.ts';
import { RedisCacheStore } from './redis-store.ts';
import { entry, storeConformance } from './store-conformance.ts';
import { Clock, makeCache, ok, origin, request, send } from './test-helpers.ts';

const { client } = useRedisServer();
let n = 0;

// A prefix per store: cases cannot see each other's keys.
storeConformance('redis', async () => new RedisCacheStore({ client: await client(), prefix: `t${++n}:` }));

describe('RedisCacheStore', () => {
  it('keeps body bytes exactly, including bytes that are not UTF-8', async () => {
    const s = new RedisCacheStore({ client: await client(), prefix: 'bin:' });
    const bytes = Buffer.from([0, 255, 128, 10, 13, 0xc3]);
    await s.put('k', { ...entry('', ''), body: bytes });
    assert.deepEqual(Buffer.from((await s.variants('k'))[0].body), bytes);
  });

  it('entries carry a TTL, and an entry Redis evicted reads as a miss', async () => {
    const c = await client();
    const s = new RedisCacheStore({ client: c, prefix: 'ttl:', ttl: 60_000 });
    await s.put('k', entry('', 'x'));
    const [key] = await c.keys('ttl:e:*');
    const ttl = await c.pTTL(key);
    assert.ok(ttl > 50_000 && ttl <= 60_000, `TTL ${ttl}`);
    await c.del(key);
    assert.deepEqual(await s.variants('k'), []);
    assert.deepEqual(await s.stats(), { bytes: 0, entries: 0 });
  });

  it('two instances share the store: what one stored the other serves, and a purge through one reaches both', async () => {
    const clock = new Clock();
    const o = origin((req, n) => ok(`v${n}`, { 'cache-control': 'max-age=600' }));
    const a = makeCache(clock, { store: new RedisCacheStore({ client: await client(), prefix: 'shared:' }) });
    const b = makeCache(clock, { store: new RedisCacheStore({ client: await client(), prefix: 'shared:' }) });
    const ha = a.wrap(o.handler);
    const hb = b.wrap(o.handler);
    assert.equal((await send(ha, request('/p'))).text, 'v1');
    const fromB = await send(hb, request('/p'));
    assert.equal(fromB.text, 'v1');
    assert.equal(fromB.headers['x-cache'], 'HIT');
    assert.equal(await a.purgeBy({ url: 'http://example.com/p' }), 1);
    assert.equal((await send(hb, request('/p'))).text, 'v2');
    assert.equal(o.calls.length, 2);
  });
});

describe('createHttpCache with store "redis"', () => {
  it('a Redis that cannot be reached makes every request a miss that still succeeds (fail open), and one warning', async () => {
    const { createHttpCache } = await import('./index.ts');
    const { CACHE_DEFAULTS } = await import('../config/cache-schema.ts');
    const { closedPort } = await import('../../test/helpers/servers.ts');
    const warnings: string[] = [];
    const cache = createHttpCache({ ...CACHE_DEFAULTS, store: 'redis', redis: { url: `redis://127.0.0.1:${await closedPort()}` } }, { warn: (m) => warnings.push(m) });
    const o = origin(() => ok('up', { 'cache-control': 'max-age=600' }));
    const h = cache.wrap(o.handler);
    for (let i = 0; i < 3; i++) {
      const r = await send(h, request('/down'));
      assert.equal(r.text, 'up');
      assert.equal(r.headers['x-cache'], 'MISS');
    }
    assert.equal(o.calls.length, 3);
    assert.equal(warnings.length, 1);
    await cache.close();
  });
});
