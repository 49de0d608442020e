import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from './validate.ts';
import { CACHE_DEFAULTS } from './cache-schema.ts';
import { parseByteSize } from './byte-size.ts';

const withCache = (cache: unknown) => validateConfig({ routes: [{ path: '/', respond: { body: 'x' }, cache }] }, process.cwd());

describe('routes[].cache config', () => {
  it('true gives the defaults; absent or false gives no cache', () => {
    const on = withCache(true);
    assert.ok(on.ok);
    assert.deepEqual(on.config.routes[0].cache, CACHE_DEFAULTS);
    for (const off of [undefined, false]) {
      const r = withCache(off);
      assert.ok(r.ok);
      assert.equal(r.config.routes[0].cache, undefined);
    }
  });

  it('sizes and durations resolve to bytes and ms; header names are lowercased', () => {
    const r = withCache({ maxBytes: '64MiB', maxObjectBytes: 1000, grace: '5m', coalesceTimeout: '2s', keyHeaders: ['X-Tenant'] });
    assert.ok(r.ok);
    assert.deepEqual(r.config.routes[0].cache, { ...CACHE_DEFAULTS, maxBytes: 64 * 1024 * 1024, maxObjectBytes: 1000, grace: 300_000, coalesceTimeout: 2000, keyHeaders: ['x-tenant'] });
  });

  it('a bad size names the field and what was expected', () => {
    const r = withCache({ maxBytes: '10 parsecs' });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.issues.some((i) => i.path === 'routes[0].cache.maxBytes' && /a size/.test(i.message)), JSON.stringify(!r.ok && r.issues));
  });

  it('an unknown field is reported with a suggestion', () => {
    const r = withCache({ maxByte: 10 });
    assert.ok(!r.ok && r.issues.some((i) => i.path === 'routes[0].cache.maxByte' && /maxBytes/.test(i.message)), JSON.stringify(!r.ok && r.issues));
  });

  it('store "redis" needs redis.url, and purge needs allow or token', () => {
    const noUrl = withCache({ store: 'redis' });
    assert.ok(!noUrl.ok && noUrl.issues.some((i) => i.path === 'routes[0].cache' && /redis: \{ url/.test(i.message)), JSON.stringify(!noUrl.ok && noUrl.issues));
    const ok = withCache({ store: 'redis', redis: { url: 'redis://127.0.0.1:6379', ttl: '1h' }, purge: { allow: ['10.0.0.0/8'] } });
    assert.ok(ok.ok);
    assert.deepEqual(ok.config.routes[0].cache?.redis, { url: 'redis://127.0.0.1:6379', ttl: 3_600_000 });
    const emptyPurge = withCache({ purge: {} });
    assert.ok(!emptyPurge.ok && emptyPurge.issues.some((i) => i.path === 'routes[0].cache.purge'), JSON.stringify(!emptyPurge.ok && emptyPurge.issues));
  });

  it('parseByteSize: binary and decimal units, whole bytes, no negatives', () => {
    assert.equal(parseByteSize('1KiB'), 1024);
    assert.equal(parseByteSize('1.5KB'), 1500);
    assert.equal(parseByteSize(12), 12);
    assert.equal(parseByteSize(-1), undefined);
    assert.equal(parseByteSize('1TB'), undefined);
  });
});
