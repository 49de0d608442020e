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

  it('in a store of many entries (where young entries are not moved on every use), a use of an old entry still saves it from eviction', async () => {
    const keys = Array.from({ length: 32 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const s = new MemoryStore({ maxBytes: entrySize('k00', entry('', 'x'.repeat(100))) * keys.length });
    for (const k of keys) await s.put(k, entry('', 'x'.repeat(100)));
    // k31 is among the youngest eighth: reading it leaves the order alone; k00 is the oldest: reading it moves it.
    for (let i = 0; i < 3; i++) await s.variants('k31');
    await s.variants('k00');
    await s.put('n01', entry('', 'x'.repeat(100)));
    await s.put('n02', entry('', 'x'.repeat(100)));
    assert.equal((await s.variants('k00')).length, 1, 'the old entry that was read survives');
    assert.equal((await s.variants('k01')).length, 0);
    assert.equal((await s.variants('k02')).length, 0);
    assert.equal((await s.variants('k31')).length, 1);
  });

  it('refuses an entry bigger than the whole bound, keeping the others', async () => {
    const s = new MemoryStore({ maxBytes: one * 2 });
    await s.put('a', entry('', 'x'.repeat(100)));
    assert.equal(await s.put('big', entry('', 'x'.repeat(one * 3))), false);
    assert.equal((await s.variants('a')).length, 1);
  });
});
