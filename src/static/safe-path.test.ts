import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveUnderRoot } from './safe-path.ts';

test('maps plain paths under the root', () => {
  assert.equal(resolveUnderRoot('/srv/www', '/a/b.css'), '/srv/www/a/b.css');
  assert.equal(resolveUnderRoot('/srv/www', '/'), '/srv/www');
  assert.equal(resolveUnderRoot('/srv/www', '/caf%C3%A9.txt'), '/srv/www/café.txt');
});

test('refuses every way out of the root', () => {
  for (const p of ['/../etc/passwd', '/a/../../etc', '/%2e%2e/etc/passwd', '/%2E%2E/x', '/a%2f..%2f..%2fetc', '/..%5c..%5cetc', '/a/%2e%2e']) {
    assert.throws(() => resolveUnderRoot('/srv/www', p), (e: { status: number }) => e.status === 404, p);
  }
  assert.throws(() => resolveUnderRoot('/srv/www', '/a%00.txt'), (e: { status: number }) => e.status === 400);
  assert.throws(() => resolveUnderRoot('/srv/www', '/%E0%A4%A'), (e: { status: number }) => e.status === 400);
});
