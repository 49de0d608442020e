// The compressor and the Accept-Encoding key in process: what the end-to-end tests
// (test/compress.test.ts, test/cache-compress.test.ts) rely on, one rule at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext, formatServerTiming } from '../http/context.ts';
import type { Handler, PorticoRequest, PorticoResponse } from '../http/types.ts';
import { CODINGS, DEFAULT_COMPRESS, chosenCoding, compressHandler } from './compress.ts';
import { acceptEncodingKey } from './accept-encoding-key.ts';

const ctx = () => new RequestContext('127.0.0.1', false, '127.0.0.1', 1, 'http', 'example.com');
const req = (headers: Record<string, string>, method = 'GET'): PorticoRequest => ({ method, target: '/', path: '/', query: '', headers, body: null, httpVersion: '1.1' });
const notModified = (etag: string): PorticoResponse => ({ status: 304, headers: { etag }, body: null });

test('chosenCoding folds any Accept-Encoding onto br / zstd / gzip / identity (RFC 9110 §12.5.3)', () => {
  const seen = new Set<string>();
  for (const ae of [undefined, '', 'gzip', 'GZIP', 'x-gzip', 'gzip, deflate, br', 'br;q=0', 'gzip;q=0, br;q=0, zstd;q=0', '*', 'identity', 'deflate', 'zstd', 'br;q=0.1, gzip;q=0.2']) {
    seen.add(chosenCoding(ae));
  }
  assert.ok([...seen].every((c) => c === 'identity' || CODINGS.includes(c)));
  assert.equal(chosenCoding(undefined), 'identity');
  assert.equal(chosenCoding('gzip, deflate, br'), 'br');
  assert.equal(chosenCoding('br;q=0.1, gzip;q=0.2'), 'gzip');
  assert.equal(chosenCoding('deflate'), 'identity');
});

test('acceptEncodingKey rewrites GET and HEAD only, to the chosen coding', async () => {
  const got: (string | undefined)[] = [];
  const h = acceptEncodingKey((r) => { got.push(r.headers['accept-encoding']); return { status: 204, headers: {}, body: null }; });
  await h(req({ 'accept-encoding': 'gzip, deflate' }), ctx());
  await h(req({}, 'HEAD'), ctx());
  await h(req({ 'accept-encoding': 'gzip, deflate' }, 'POST'), ctx());
  await h(req({}, 'POST'), ctx());
  assert.deepEqual(got, ['gzip', 'identity', 'gzip, deflate', undefined]);
});

test('a 304 answering only the weak form of its ETag gets that form back (RFC 9111 §4.3.4); a strong match keeps it strong', async () => {
  const h = compressHandler(() => notModified('"v1"'), DEFAULT_COMPRESS);
  const weak = await h(req({ 'accept-encoding': 'gzip', 'if-none-match': 'W/"v1"' }), ctx());
  assert.equal(weak.headers.etag, 'W/"v1"');
  assert.equal(weak.headers.vary, 'Accept-Encoding');
  const strong = await h(req({ 'accept-encoding': 'gzip', 'if-none-match': 'W/"v1", "v1"' }), ctx());
  assert.equal(strong.headers.etag, '"v1"');
  const other = await h(req({ 'accept-encoding': 'gzip', 'if-none-match': 'W/"v0"' }), ctx());
  assert.equal(other.headers.etag, '"v1"');
});

test('Server-Timing: compress;desc=<coding> only when a body was encoded; the entry is closed when the target throws', async () => {
  const body = 'x'.repeat(4096);
  const ok: Handler = () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body });
  const c1 = ctx();
  const r = await compressHandler(ok, DEFAULT_COMPRESS)(req({ 'accept-encoding': 'gzip' }), c1);
  (r.body as NodeJS.ReadableStream).resume();
  assert.match(formatServerTiming(c1.timings), /^compress;desc=gzip;dur=\d/);
  const c2 = ctx();
  await compressHandler(ok, DEFAULT_COMPRESS)(req({}), c2);
  assert.equal(c2.timings.length, 0, 'no Accept-Encoding, nothing to negotiate: no entry');
  const c3 = ctx();
  const failing: Handler = () => { throw new Error('down'); };
  const t0 = performance.now();
  await assert.rejects(Promise.resolve().then(() => compressHandler(failing, DEFAULT_COMPRESS)(req({ 'accept-encoding': 'br' }), c3)));
  const elapsed = performance.now() - t0;
  const dur = c3.timings[0].dur;
  assert.ok(dur >= 0 && dur <= elapsed, `a duration (≤ ${elapsed} ms), not a start timestamp: ${dur}`);
});

test('1,000 distinct Accept-Encoding strings in front of a cache make at most 4 stored variants and 4 upstream requests', async () => {
  const { Clock, makeCache, origin, ok, send, request } = await import('../cache/test-helpers.ts');
  const o = origin(() => ok('portico '.repeat(500), { 'cache-control': 'max-age=600' }));
  const cache = makeCache(new Clock());
  const h = acceptEncodingKey(cache.wrap(compressHandler(o.handler, DEFAULT_COMPRESS), { flightField: 'accept-encoding' }));
  const names = ['gzip', 'br', 'zstd', 'deflate', 'identity', '*', 'x-gzip', 'compress', 'GZip', 'BR'];
  const spellings = new Set<string>();
  let seed = 42;
  const rand = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
  for (let i = 0; spellings.size < 1000 && i < 100_000; i++) {
    const parts: string[] = [];
    for (let j = 0, k = 1 + rand(4); j < k; j++) {
      const name = names[rand(names.length)];
      const q = rand(12);
      parts.push(q >= 10 ? name : `${name};q=${(q / 10).toFixed(1)}`);
    }
    spellings.add(parts.join(rand(2) === 0 ? ', ' : ','));
  }
  assert.equal(spellings.size, 1000);
  const codings = new Set<string | undefined>();
  for (const ae of spellings) {
    const r = await send(h, request('/many', { 'accept-encoding': ae }));
    codings.add(r.headers['content-encoding'] as string | undefined);
  }
  const { entries } = await cache.store.stats();
  assert.ok(entries <= 4, `${entries} variants stored`);
  assert.equal(o.calls.length, entries, 'one upstream request per stored variant');
  assert.ok(codings.size >= 3, 'the spellings did select several codings');
});
