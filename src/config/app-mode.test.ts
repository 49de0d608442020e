// `apps.<name>.mode`: workers by default; 'in-process' takes no worker count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { validateConfig } from './validate.ts';

const dir = fileURLToPath(new URL('../../test/fixtures/apps/', import.meta.url));
const base = { listeners: [{ port: 8080 }], routes: [{ path: '/', app: 'shop' }] };

test('mode defaults to workers and takes in-process', () => {
  const r = validateConfig({ ...base, apps: { shop: { module: './fetch-app.ts' } } }, dir);
  assert.ok(r.ok && r.config.apps.shop.mode === 'workers');
  const local = validateConfig({ ...base, apps: { shop: { module: './fetch-app.ts', mode: 'in-process' } } }, dir);
  assert.ok(local.ok && local.config.apps.shop.mode === 'in-process' && local.config.apps.shop.workers === 1);
});

test('an unknown mode, and in-process with several workers, are errors with their path', () => {
  const bad = validateConfig({ ...base, apps: { shop: { module: './fetch-app.ts', mode: 'threads' } } }, dir);
  assert.ok(!bad.ok);
  assert.deepEqual(bad.issues.map((i) => i.path), ['apps.shop.mode']);
  const many = validateConfig({ ...base, apps: { shop: { module: './fetch-app.ts', mode: 'in-process', workers: 'auto' } } }, dir);
  assert.ok(!many.ok);
  assert.deepEqual(many.issues.map((i) => i.path), ['apps.shop.workers']);
  assert.match(many.issues[0].message, /runs the app in the data-plane process itself/);
});
