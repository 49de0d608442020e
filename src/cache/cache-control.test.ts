import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deltaSeconds, fieldNames, parseCacheControl, requestDirectives } from './cache-control.ts';

describe('RFC 9111 §5.2 Cache-Control parsing', () => {
  it('directive names are case-insensitive; arguments are tokens or quoted strings', () => {
    const d = parseCacheControl('Public, MAX-AGE=60, no-cache="Set-Cookie, X-Foo", ext="a\\"b"');
    assert.equal(d.get('public'), true);
    assert.equal(deltaSeconds(d, 'max-age'), 60);
    assert.deepEqual(fieldNames(d, 'no-cache'), ['set-cookie', 'x-foo']);
    assert.equal(d.get('ext'), 'a"b');
  });

  it('RFC 9111 §1.2.2: delta-seconds is digits only, capped at 2^31', () => {
    assert.equal(deltaSeconds(parseCacheControl('max-age=-1'), 'max-age'), undefined);
    assert.equal(deltaSeconds(parseCacheControl('max-age=1.5'), 'max-age'), undefined);
    assert.equal(deltaSeconds(parseCacheControl('max-age=99999999999'), 'max-age'), 2 ** 31);
  });

  it('repeated header lines are one list', () => {
    const d = parseCacheControl(['max-age=5', 'must-revalidate']);
    assert.equal(deltaSeconds(d, 'max-age'), 5);
    assert.equal(d.get('must-revalidate'), true);
  });

  it('RFC 9111 §5.4: Pragma: no-cache counts only without Cache-Control', () => {
    assert.equal(requestDirectives({ pragma: 'no-cache' }).has('no-cache'), true);
    assert.equal(requestDirectives({ pragma: 'no-cache', 'cache-control': 'max-age=5' }).has('no-cache'), false);
  });
});
