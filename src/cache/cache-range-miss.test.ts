// Range requests on a miss (RFC 9111 §3.3, §3.4; RFC 9110 §14): as Varnish does, the cache fetches
// the whole response without Range, keeps it and cuts the range from it; what it cannot keep (too
// big, not storable) goes upstream with the client's own Range. A 206 is never kept as a whole.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { PorticoRequest, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import { Clock, makeCache, ok, origin, request, send, streamBody } from './test-helpers.ts';

const BODY = '0123456789';

/** An origin that honours Range itself (so a forwarded Range is visible in the answer) and streams its 200s. */
function rangingOrigin(headers: ResponseHeaders, opts: { stream?: boolean; length?: boolean } = {}) {
  return origin((req: PorticoRequest): PorticoResponse => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers['range'] ?? '');
    if (m !== null) {
      const part = BODY.slice(Number(m[1]), Number(m[2]) + 1);
      return { status: 206, headers: { ...headers, 'content-range': `bytes ${m[1]}-${m[2]}/${BODY.length}`, 'content-length': String(part.length) }, body: part };
    }
    const h: ResponseHeaders = { 'content-type': 'text/plain', ...headers, ...(opts.length === false ? {} : { 'content-length': String(BODY.length) }) };
    return { status: 200, headers: h, body: opts.stream === true ? Readable.from([Buffer.from(BODY.slice(0, 4)), Buffer.from(BODY.slice(4))]) : BODY };
  });
}

describe('RFC 9111 §3.3 Range requests on a miss', () => {
  for (const stream of [false, true]) {
    it(`RFC 9111 §3.3 / RFC 9110 §14.2: a miss fetches the whole response without Range, stores it and answers 206 (${stream ? 'streamed' : 'buffered'} body)`, async () => {
      const o = rangingOrigin({ 'cache-control': 'max-age=60' }, { stream });
      const h = makeCache(new Clock()).wrap(o.handler);
      const r = await send(h, request('/r', { range: 'bytes=2-4' }));
      assert.equal(o.calls[0].headers['range'], undefined);
      assert.equal(r.status, 206);
      assert.equal(r.text, '234');
      assert.equal(r.headers['content-range'], 'bytes 2-4/10');
      assert.equal(r.headers['content-length'], '3');
      assert.match(String(r.headers['cache-status']), /fwd=uri-miss; fwd-status=200; stored/);
      const whole = await send(h, request('/r'));
      assert.equal(whole.text, BODY);
      assert.equal(whole.headers['x-cache'], 'HIT');
      assert.equal(o.calls.length, 1);
    });
  }

  it('RFC 9110 §14.6: several ranges on a miss are answered as multipart/byteranges from the fetched whole', async () => {
    const o = rangingOrigin({ 'cache-control': 'max-age=60' }, { stream: true });
    const r = await send(makeCache(new Clock()).wrap(o.handler), request('/m', { range: 'bytes=0-0,8-9' }));
    assert.equal(r.status, 206);
    assert.match(String(r.headers['content-type']), /^multipart\/byteranges; boundary=/);
    assert.match(r.text, /Content-Range: bytes 0-0\/10\r\n\r\n0\r\n/);
    assert.match(r.text, /Content-Range: bytes 8-9\/10\r\n\r\n89\r\n/);
  });

  it('RFC 9110 §15.5.17: an unsatisfiable range on a miss is a 416 naming the length, and the response is stored', async () => {
    const o = rangingOrigin({ 'cache-control': 'max-age=60' });
    const h = makeCache(new Clock()).wrap(o.handler);
    const r = await send(h, request('/u', { range: 'bytes=50-60' }));
    assert.equal(r.status, 416);
    assert.equal(r.headers['content-range'], 'bytes */10');
    assert.equal((await send(h, request('/u'))).headers['x-cache'], 'HIT');
  });

  it('RFC 9110 §13.1.5: If-Range that does not match the fetched response gets the whole 200', async () => {
    const o = rangingOrigin({ 'cache-control': 'max-age=60', etag: '"new"' });
    const r = await send(makeCache(new Clock()).wrap(o.handler), request('/i', { range: 'bytes=0-1', 'if-range': '"old"' }));
    assert.equal(o.calls[0].headers['if-range'], undefined);
    assert.equal(r.status, 200);
    assert.equal(r.text, BODY);
  });

  it('maxObjectBytes: a body that Content-Length shows too big to keep is asked for again with the client\'s Range', async () => {
    const o = rangingOrigin({ 'cache-control': 'max-age=60' }, { stream: true });
    const h = makeCache(new Clock(), { maxObjectBytes: 5 }).wrap(o.handler);
    const r = await send(h, request('/big', { range: 'bytes=1-2' }));
    assert.equal(o.calls[1].headers['range'], 'bytes=1-2');
    assert.equal(r.status, 206);
    assert.equal(r.text, '12');
    await send(h, request('/big', { range: 'bytes=1-2' }));
    assert.equal(o.calls.length, 4, 'nothing was stored');
  });

  it('maxObjectBytes: a body without Content-Length that outgrows the bound is asked for again with the client\'s Range', async () => {
    const o = rangingOrigin({ 'cache-control': 'max-age=60' }, { stream: true, length: false });
    const r = await send(makeCache(new Clock(), { maxObjectBytes: 5 }).wrap(o.handler), request('/grow', { range: 'bytes=7-9' }));
    assert.equal(o.calls.length, 2);
    assert.equal(o.calls[1].headers['range'], 'bytes=7-9');
    assert.equal(r.status, 206);
    assert.equal(r.text, '789');
  });

  it('RFC 9111 §3: a streamed response that may not be stored (no-store) is asked for again with the client\'s Range', async () => {
    const o = rangingOrigin({ 'cache-control': 'no-store' }, { stream: true });
    const r = await send(makeCache(new Clock()).wrap(o.handler), request('/ns', { range: 'bytes=0-1' }));
    assert.equal(o.calls[1].headers['range'], 'bytes=0-1');
    assert.equal(r.status, 206);
    assert.equal(r.text, '01');
  });

  it('RFC 9111 §3.3: a 206 from upstream is never stored as a complete response', async () => {
    const o = origin(() => ({ status: 206, headers: { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-1/10', 'content-length': '2' }, body: '01' }));
    const h = makeCache(new Clock()).wrap(o.handler);
    assert.equal((await send(h, request('/p'))).status, 206);
    const again = await send(h, request('/p'));
    assert.equal(o.calls.length, 2);
    assert.equal(again.headers['x-cache'], 'MISS');
    assert.doesNotMatch(String(again.headers['cache-status']), /stored/);
  });

  it('RFC 9111 §4 coalescing: a Range request joining a fetch in flight gets its range once the whole body is in', async () => {
    const body = streamBody();
    const o = origin(() => ({ status: 200, headers: { 'cache-control': 'max-age=60', 'content-length': '10' }, body }));
    const h = makeCache(new Clock()).wrap(o.handler);
    const leader = send(h, request('/c'));
    await new Promise((r) => setImmediate(r));
    const waiter = send(h, request('/c', { range: 'bytes=3-5' }));
    body.write('01234');
    body.end('56789');
    const [l, w] = await Promise.all([leader, waiter]);
    assert.equal(l.text, BODY);
    assert.equal(w.status, 206);
    assert.equal(w.text, '345');
    assert.match(String(w.headers['cache-status']), /collapsed/);
    assert.equal(o.calls.length, 1);
  });

  it('a Range request on a response that is not 200 gets that response as it is', async () => {
    const o = origin(() => ok('gone', { 'cache-control': 'max-age=60' }, 404));
    const r = await send(makeCache(new Clock()).wrap(o.handler), request('/404', { range: 'bytes=0-1' }));
    assert.equal(r.status, 404);
    assert.equal(r.text, 'gone');
  });

  it('RFC 9111 §4.3.1: a Range request on a stale stored response validates it (without Range) and slices the result', async () => {
    const clock = new Clock();
    const o = origin((req, n) => (n === 1 ? ok(BODY, { 'cache-control': 'max-age=10', etag: '"a"' }) : { status: 304, headers: { etag: '"a"' }, body: null }));
    const h = makeCache(clock).wrap(o.handler);
    await send(h, request('/st'));
    clock.advance(20);
    const r = await send(h, request('/st', { range: 'bytes=-3' }));
    assert.equal(o.calls[1].headers['range'], undefined);
    assert.equal(o.calls[1].headers['if-none-match'], '"a"');
    assert.equal(r.status, 206);
    assert.equal(r.text, '789');
  });

  it('RFC 9110 §13.2.2: on a miss, a matching If-None-Match is answered 304 before Range is looked at', async () => {
    const o = rangingOrigin({ 'cache-control': 'max-age=60', etag: '"v"' }, { stream: true });
    const r = await send(makeCache(new Clock()).wrap(o.handler), request('/inm', { range: 'bytes=0-1', 'if-none-match': '"v"' }));
    assert.equal(r.status, 304);
    assert.equal(o.calls.length, 1);
  });
});
