// The app server's settings in the config: workers 'auto', workerTimeout, gracefulTimeout and the
// recycling limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { validateConfig } from './validate.ts';

// Module paths are checked on disk: use the test fixtures' directory as the config's.
const dir = fileURLToPath(new URL('../../test/fixtures/apps/', import.meta.url));

const base = { listeners: [{ port: 8080 }], routes: [{ path: '/', app: 'shop' }] };

test('app timeouts default to 30 s and the stack shutdownTimeout; workers auto is one per core', () => {
  const r = validateConfig({ ...base, shutdownTimeout: '7s', apps: { shop: { module: './fetch-app.ts', workers: 'auto' } } }, dir);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  assert.equal(r.config.apps.shop.workers, availableParallelism());
  assert.equal(r.config.apps.shop.workerTimeout, 30_000);
  assert.equal(r.config.apps.shop.gracefulTimeout, 7_000);
});

test('app timeouts take durations and are checked with their path', () => {
  const r = validateConfig({ ...base, apps: { shop: { module: './fetch-app.ts', workerTimeout: '5s', gracefulTimeout: 2500 } } }, dir);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  assert.equal(r.config.apps.shop.workerTimeout, 5_000);
  assert.equal(r.config.apps.shop.gracefulTimeout, 2_500);
  const bad = validateConfig({ ...base, apps: { shop: { module: './fetch-app.ts', workerTimeout: 'soon' } } }, dir);
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.issues.some((i) => i.path === 'apps.shop.workerTimeout'), JSON.stringify(!bad.ok && bad.issues));
});

test('recycling limits default to off and take whole numbers', () => {
  const r = validateConfig({ ...base, apps: { shop: { module: './fetch-app.ts', maxRequests: 1000, maxRequestsJitter: 50, maxMemory: 512 * 1024 * 1024 } } }, dir);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  const { maxRequests, maxRequestsJitter, maxMemory } = r.config.apps.shop;
  assert.deepEqual({ maxRequests, maxRequestsJitter, maxMemory }, { maxRequests: 1000, maxRequestsJitter: 50, maxMemory: 536_870_912 });
  const off = validateConfig({ ...base, apps: { shop: { module: './fetch-app.ts' } } }, dir);
  assert.ok(off.ok && off.config.apps.shop.maxRequests === 0 && off.config.apps.shop.maxMemory === 0);
  const bad = validateConfig({ ...base, apps: { shop: { module: './fetch-app.ts', maxMemory: -1, maxRequests: 1.5 } } }, dir);
  assert.ok(!bad.ok);
  assert.deepEqual(bad.issues.map((i) => i.path).sort(), ['apps.shop.maxMemory', 'apps.shop.maxRequests']);
  assert.match(bad.issues[0].message, /an integer ≥ 0 \(0 = off\)/);
});
