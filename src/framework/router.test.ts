import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from './router.ts';
import { routerConformance } from './router-conformance.ts';

routerConformance('segment tree', (options) => new Router<string>(options));

test('params of a static-only match are a shared empty object', () => {
  const r = new Router<string>();
  r.add('GET', '/a', 'a');
  const m = r.match('GET', '/a');
  assert.equal(m.type, 'found');
  if (m.type === 'found') assert.deepEqual(Object.keys(m.params), []);
});
