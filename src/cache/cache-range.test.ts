// RFC 9110 §14: Range requests answered from a complete stored response.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Clock, makeCache, ok, origin, request, send } from './test-helpers.ts';

function setup(headers: Record<string, string> = {}) {
  const clock = new Clock();
  const o = origin(() => ok('0123456789', { 'cache-control': 'max-age=60', etag: '"v1"', date: clock.date(), 'last-modified': clock.date(-100), ...headers }));
  return { clock, o, h: makeCache(clock).wrap(o.handler) };
}

describe('RFC 9110 §14 ranges from the cache', () => {
  it('RFC 9110 §14.1.2: one byte range of a stored response is a 206 with Content-Range, without contacting the origin', async () => {
    const { o, h } = setup();
    await send(h, request('/r'));
    const r = await send(h, request('/r', { range: 'bytes=2-4' }));
    assert.equal(r.status, 206);
    assert.equal(r.text, '234');
    assert.equal(r.headers['content-range'], 'bytes 2-4/10');
    assert.equal(r.headers['content-length'], '3');
    assert.equal(o.calls.length, 1);
  });

  it('RFC 9110 §14.1.1: a suffix range gives the last N bytes', async () => {
    const { h } = setup();
    await send(h, request('/r'));
    assert.equal((await send(h, request('/r', { range: 'bytes=-3' }))).text, '789');
  });

  it('RFC 9110 §14.6: several ranges are sent as multipart/byteranges', async () => {
    const { h } = setup();
    await send(h, request('/r'));
    const r = await send(h, request('/r', { range: 'bytes=0-1, 8-9' }));
    assert.equal(r.status, 206);
    const boundary = /boundary=(.+)$/.exec(String(r.headers['content-type']))?.[1];
    assert.ok(boundary);
    assert.match(r.text, /Content-Range: bytes 0-1\/10\r\n\r\n01\r\n/);
    assert.match(r.text, /Content-Range: bytes 8-9\/10\r\n\r\n89\r\n/);
    assert.ok(r.text.endsWith(`--${boundary}--\r\n`));
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.text));
  });

  it('RFC 9110 §15.5.17: an unsatisfiable range is a 416 naming the length', async () => {
    const { h } = setup();
    await send(h, request('/r'));
    const r = await send(h, request('/r', { range: 'bytes=50-60' }));
    assert.equal(r.status, 416);
    assert.equal(r.headers['content-range'], 'bytes */10');
  });

  it('RFC 9110 §14.2: a malformed Range is ignored and the whole response sent', async () => {
    const { h } = setup();
    await send(h, request('/r'));
    const r = await send(h, request('/r', { range: 'lines=1-2' }));
    assert.equal(r.status, 200);
    assert.equal(r.text, '0123456789');
  });

  it('RFC 9110 §13.1.5: If-Range with the current strong ETag gets the range, with another one the whole', async () => {
    const { h } = setup();
    await send(h, request('/r'));
    assert.equal((await send(h, request('/r', { range: 'bytes=0-0', 'if-range': '"v1"' }))).status, 206);
    assert.equal((await send(h, request('/r', { range: 'bytes=0-0', 'if-range': '"v0"' }))).status, 200);
  });

  it('RFC 9110 §13.1.5: If-Range never matches a weak ETag', async () => {
    const { h } = setup({ etag: 'W/"v1"' });
    await send(h, request('/r'));
    assert.equal((await send(h, request('/r', { range: 'bytes=0-0', 'if-range': 'W/"v1"' }))).status, 200);
  });

  it('RFC 9110 §13.1.5: If-Range with the Last-Modified date gets the range', async () => {
    const { clock, h } = setup();
    await send(h, request('/r'));
    assert.equal((await send(h, request('/r', { range: 'bytes=0-0', 'if-range': clock.date(-100) }))).status, 206);
    assert.equal((await send(h, request('/r', { range: 'bytes=0-0', 'if-range': clock.date(-200) }))).status, 200);
  });

  it('RFC 9110 §13.2.2: a matching If-None-Match takes precedence over Range (304)', async () => {
    const { h } = setup();
    await send(h, request('/r'));
    assert.equal((await send(h, request('/r', { range: 'bytes=0-0', 'if-none-match': '"v1"' }))).status, 304);
  });
});
