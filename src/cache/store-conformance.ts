// The one suite every CacheStore passes (DESIGN.md: one shared suite per interchangeable part).
// Call it from a store's own test file with a factory for a fresh, empty store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CacheStore, StoredResponse } from './store.ts';

export function entry(variant: string, body: string, extra: Partial<StoredResponse> = {}): StoredResponse {
  return {
    variant,
    vary: [],
    varyValues: {},
    status: 200,
    headers: { 'content-type': 'text/plain', etag: `"${body}"`, 'set-like': ['a', 'b'] },
    body: Buffer.from(body),
    requestTime: 1_000,
    responseTime: 1_000,
    tags: [],
    ...extra,
  };
}

const text = (e: StoredResponse | undefined) => (e === undefined ? undefined : Buffer.from(e.body).toString());

export function storeConformance(name: string, make: () => Promise<CacheStore>): void {
  describe(`CacheStore conformance: ${name}`, () => {
    const withStore = (fn: (s: CacheStore) => Promise<void>) => async () => {
      const s = await make();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    };

    it('RFC 9111 §4.3.5: keeps the mark of an entry a HEAD response invalidated', withStore(async (s) => {
      await s.put('GET http://a/h', entry('', 'x', { invalidated: true }));
      await s.put('GET http://a/i', entry('', 'y'));
      assert.equal((await s.variants('GET http://a/h'))[0].invalidated, true);
      assert.equal((await s.variants('GET http://a/i'))[0].invalidated, undefined);
    }));

    it('keeps what it is given: status, headers (arrays too), body bytes and times', withStore(async (s) => {
      const e = entry('', 'hello', { status: 203, varyValues: { 'accept-encoding': 'gzip' }, vary: ['accept-encoding'], requestTime: 5, responseTime: 7 });
      assert.equal(await s.put('GET http://a/x', e), true);
      const [got] = await s.variants('GET http://a/x');
      assert.equal(got.status, 203);
      assert.deepEqual(got.headers, e.headers);
      assert.equal(text(got), 'hello');
      assert.deepEqual([got.requestTime, got.responseTime], [5, 7]);
      assert.deepEqual(got.vary, ['accept-encoding']);
      assert.deepEqual(got.varyValues, { 'accept-encoding': 'gzip' });
    }));

    it('RFC 9111 §4.1: keeps several variants under one primary key, newest first', withStore(async (s) => {
      await s.put('k', entry('gzip', 'zipped', { responseTime: 1 }));
      await s.put('k', entry('br', 'brotli', { responseTime: 2 }));
      assert.deepEqual((await s.variants('k')).map(text), ['brotli', 'zipped']);
    }));

    it('replaces the variant with the same secondary key', withStore(async (s) => {
      await s.put('k', entry('v', 'old'));
      await s.put('k', entry('v', 'new'));
      assert.deepEqual((await s.variants('k')).map(text), ['new']);
      assert.equal((await s.stats()).entries, 1);
    }));

    it('an unknown key has no variants', withStore(async (s) => {
      assert.deepEqual(await s.variants('nothing'), []);
    }));

    it('RFC 9111 §4.4: delete forgets every variant of a primary key and no other', withStore(async (s) => {
      await s.put('a', entry('1', 'a1'));
      await s.put('a', entry('2', 'a2'));
      await s.put('b', entry('', 'b'));
      assert.equal(await s.delete('a'), 2);
      assert.deepEqual(await s.variants('a'), []);
      assert.deepEqual((await s.variants('b')).map(text), ['b']);
      assert.equal(await s.delete('a'), 0);
    }));

    it('deletePrefix forgets keys under a prefix only', withStore(async (s) => {
      await s.put('GET http://h/api/1', entry('', '1'));
      await s.put('GET http://h/api/2', entry('', '2'));
      await s.put('GET http://h/other', entry('', '3'));
      assert.equal(await s.deletePrefix('GET http://h/api/'), 2);
      assert.deepEqual((await s.variants('GET http://h/other')).map(text), ['3']);
    }));

    it('deleteTag forgets tagged entries only', withStore(async (s) => {
      await s.put('a', entry('', 'a', { tags: ['product-1', 'list'] }));
      await s.put('b', entry('', 'b', { tags: ['product-2'] }));
      assert.equal(await s.deleteTag('list'), 1);
      assert.deepEqual(await s.variants('a'), []);
      assert.equal((await s.variants('b')).length, 1);
    }));

    it('stats counts bytes and entries, and a deleted entry gives its bytes back', withStore(async (s) => {
      await s.put('a', entry('', 'x'.repeat(1000)));
      const full = await s.stats();
      assert.equal(full.entries, 1);
      assert.ok(full.bytes >= 1000);
      await s.delete('a');
      assert.deepEqual(await s.stats(), { bytes: 0, entries: 0 });
    }));
  });
}
