// The open-file cache: answers kept for validMs, then re-checked; concurrent re-checks share one
// stat; unchanged files keep their entry (and so their identity), changed ones get a new one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, realpathSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCache } from './file-cache.ts';

function setup() {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'portico-file-cache-')));
  let now = 1_000_000;
  const cache = new FileCache(root, { validMs: 1000, now: () => now });
  return { root, cache, advance: (ms: number) => (now += ms) };
}

test('fresh() answers from memory until validMs has passed, then nothing', async () => {
  const { root, cache, advance } = setup();
  const file = join(root, 'a.txt');
  writeFileSync(file, 'one');
  assert.equal(cache.fresh(file), undefined, 'never looked up');
  const info = await cache.lookup(file);
  assert.equal(info.kind, 'file');
  assert.equal(cache.fresh(file), info);
  advance(999);
  assert.equal(cache.fresh(file), info);
  advance(1);
  assert.equal(cache.fresh(file), undefined, 'stale at validMs');
});

test('a re-check keeps the same entry for an unchanged file and a new one for a changed file', async () => {
  const { root, cache, advance } = setup();
  const file = join(root, 'b.txt');
  writeFileSync(file, 'one');
  const first = await cache.lookup(file);
  advance(1500);
  const again = await cache.lookup(file);
  assert.equal(again, first, 'unchanged: same object, so prepared answers stay valid');
  writeFileSync(file, 'three');
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  advance(1500);
  const changed = await cache.lookup(file);
  assert.notEqual(changed, first);
  assert.equal(changed.kind === 'file' && changed.data?.toString(), 'three');
  assert.equal(cache.fresh(file), changed);
});

test('concurrent lookups of a stale path share one load', async () => {
  const { root, cache } = setup();
  const file = join(root, 'c.txt');
  writeFileSync(file, 'x');
  const a = cache.lookup(file);
  const b = cache.lookup(file);
  assert.equal(a, b, 'the second lookup waits for the first one\'s stat');
  assert.equal(await a, await b);
  const missing = join(root, 'nope.txt');
  const [m1, m2] = await Promise.all([cache.lookup(missing), cache.lookup(missing)]);
  assert.equal(m1.kind, 'missing');
  assert.equal(m1, m2);
});
