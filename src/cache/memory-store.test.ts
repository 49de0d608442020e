import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from './memory-store.ts';
import { entry, storeConformance } from './store-conformance.ts';
import { entrySize } from './store.ts';

storeConformance('memory', () => Promise.resolve(new MemoryStore({ maxBytes: 1 << 20 })));

describe('MemoryStore byte bound', () => {
  const one = entrySize('a', entry('', 'x'.repeat(100)));

  it('evicts the least recently used entry when the byte bound is passed', async () => {
    const s = new MemoryStore({ maxBytes: one * 3 });
    for (const k of ['a', 'b', 'c']) await s.put(k, entry('', 'x'.repeat(100)));
    await s.variants('a'); // a read is a use: b is now the least recently used
    await s.put('d', entry('', 'x'.repeat(100)));
    assert.equal((await s.variants('b')).length, 0);
    for (const k of ['a', 'c', 'd']) assert.equal((await s.variants(k)).length, 1, k);
    assert.ok((await s.stats()).bytes <= one * 3);
  });

  it('refuses an entry bigger than the whole bound, keeping the others', async () => {
    const s = new MemoryStore({ maxBytes: one * 2 });
    await s.put('a', entry('', 'x'.repeat(100)));
    assert.equal(await s.put('big', entry('', 'x'.repeat(one * 3))), false);
    assert.equal((await s.variants('a')).length, 1);
  });
});
