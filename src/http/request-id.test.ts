// Request ids (request-id.ts): UUID-shaped, unique within a process, not a visible counter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestIds, newRequestId } from './request-id.ts';
import { isAcceptableRequestId } from './context.ts';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are RFC 9562 version-8 UUIDs (36 characters, hex and dashes) and acceptable request ids', () => {
  for (let i = 0; i < 1000; i++) {
    const id = newRequestId();
    assert.match(id, UUID_V8);
    assert.ok(isAcceptableRequestId(id));
  }
});

test('200,000 ids from one process are all distinct, and consecutive ids differ in more than one digit', () => {
  const ids = new RequestIds();
  const seen = new Set<string>();
  let previous = ids.next();
  seen.add(previous);
  let sameTail = 0;
  for (let i = 0; i < 200_000; i++) {
    const id = ids.next();
    seen.add(id);
    // A plain counter would change only the last digit or two most of the time.
    if (id.slice(0, 34) === previous.slice(0, 34)) sameTail++;
    previous = id;
  }
  assert.equal(seen.size, 200_001);
  assert.ok(sameTail < 100, `consecutive ids looked like a counter ${sameTail} times`);
});

test('two generators (two processes) draw different prefixes', () => {
  const a = new RequestIds().next();
  const b = new RequestIds().next();
  assert.notEqual(a.slice(0, 23), b.slice(0, 23));
});

test('the 32-bit counter wrapping opens the next epoch instead of repeating an id', () => {
  const ids = new RequestIds(0xfffffffe);
  const a = ids.next();
  const b = ids.next();
  const c = ids.next();
  assert.equal(a.slice(24, 28), '0000');
  assert.equal(b.slice(24, 28), '0000');
  assert.equal(c.slice(24, 28), '0001');
  assert.equal(new Set([a, b, c]).size, 3);
  assert.equal(a.slice(0, 24), c.slice(0, 24), 'same process prefix');
});
