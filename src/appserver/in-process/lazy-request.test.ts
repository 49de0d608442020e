// The in-process app's lightweight Request: plain fields until the app needs a native Request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { lazyRequest } from './lazy-request.ts';

const parts = (body: Readable | null = null, method = 'GET') => {
  let signals = 0;
  const controller = new AbortController();
  return {
    p: { method, url: 'http://example.test/a?b=1', headers: { host: 'example.test', 'x-one': '1' }, body, signal: () => (signals++, controller.signal) },
    signals: () => signals,
    controller,
  };
};

test('method, url and headers without a signal or a native Request; instanceof Request holds', () => {
  const { p, signals } = parts();
  const r = lazyRequest(p);
  assert.ok(r instanceof Request);
  assert.equal(r.method, 'GET');
  assert.equal(r.url, 'http://example.test/a?b=1');
  assert.equal(r.headers.get('x-one'), '1');
  assert.equal(r.bodyUsed, false);
  assert.equal(signals(), 0, 'no AbortController unless the app asks');
  assert.equal(r.body, null, 'a GET has no body');
});

test('the body streams from the PorticoRequest; text(), bodyUsed and the signal go to the native Request', async () => {
  const { p, controller } = parts(Readable.from([Buffer.from('hello '), Buffer.from('world')]), 'POST');
  const r = lazyRequest(p);
  assert.equal(r.signal.aborted, false);
  assert.equal(await r.text(), 'hello world');
  assert.equal(r.bodyUsed, true);
  assert.equal(r.headers.get('host'), 'example.test');
  controller.abort(new Error('client left'));
  assert.equal(r.signal.aborted, true);
});

test('clone() and json() work on the lazy request', async () => {
  const { p } = parts(Readable.from([Buffer.from('{"a":1}')]), 'PUT');
  const r = lazyRequest(p);
  const copy = r.clone();
  assert.deepEqual(await copy.json(), { a: 1 });
  assert.deepEqual(await r.json(), { a: 1 });
  assert.equal(copy.method, 'PUT');
});
