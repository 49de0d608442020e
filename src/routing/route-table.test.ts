import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable, type RouteEntry } from './route-table.ts';

const e = (index: number, path: string, hosts: string[] = []): RouteEntry<string> => ({ index, name: `r${index}`, hosts, path, target: `r${index}` });

test('longest prefix wins on segment boundaries', () => {
  const t = new RouteTable([e(0, '/'), e(1, '/api'), e(2, '/api/v2')]);
  assert.equal(t.match('x', '/api')?.entry.target, 'r1');
  assert.equal(t.match('x', '/api/products')?.entry.target, 'r1');
  assert.equal(t.match('x', '/api/v2/products')?.entry.target, 'r2');
  assert.equal(t.match('x', '/apix')?.entry.target, 'r0');
  assert.equal(t.match('x', '/')?.entry.target, 'r0');
});

test('no catch-all means no match', () => {
  const t = new RouteTable([e(0, '/api')]);
  assert.equal(t.match('x', '/other'), null);
  assert.equal(t.match('x', '/ap'), null);
});

test('exact host beats wildcard beats any host; falls through when the host group has no prefix', () => {
  const t = new RouteTable([e(0, '/'), e(1, '/', ['*.example.com']), e(2, '/', ['api.example.com']), e(3, '/docs', ['www.example.com'])]);
  assert.equal(t.match('api.example.com', '/x')?.entry.target, 'r2');
  assert.equal(t.match('shop.example.com', '/x')?.entry.target, 'r1');
  assert.equal(t.match('example.com', '/x')?.entry.target, 'r0');
  assert.equal(t.match('www.example.com', '/docs/a')?.entry.target, 'r3');
  assert.equal(t.match('www.example.com', '/blog')?.entry.target, 'r1');
});

test('first listed wins for equal prefixes', () => {
  const t = new RouteTable([e(0, '/a'), e(1, '/a')]);
  assert.equal(t.match('h', '/a/b')?.entry.target, 'r0');
});

test('cost does not depend on the number of routes: 1000 prefixes still resolve', () => {
  const entries = Array.from({ length: 1000 }, (_, i) => e(i, `/svc${i}`));
  const t = new RouteTable(entries);
  assert.equal(t.match('h', '/svc999/x/y')?.entry.target, 'r999');
  assert.equal(t.match('h', '/svc5')?.entry.target, 'r5');
});
