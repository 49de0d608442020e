// Portico's upstream HTTP/1.1 client against scripted raw-socket servers: keep-alive reuse and its
// bound, every body framing, interim responses, trailers, request heads and bodies, and every
// malformed response refused as 502 with the connection closed. Failures, timeouts, aborts and
// backpressure are in h1-client-failures.test.ts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { h1PoolFor } from './for-server.ts';
import { scriptedServer, waitFor } from '../../../test/helpers/servers.ts';
import { get, ok, text, upstreamKit } from '../../../test/helpers/raw-upstream.ts';

const kit = upstreamKit();
after(() => kit.close());
const { rawUpstream, pool } = kit;

test('keep-alive: sequential requests share one connection; the head carries our framing and no hop-by-hop field', async () => {
  const up = await rawUpstream((s, head) => s.write(ok(head.split('\r\n')[0])));
  const p = pool(up.port);
  for (const path of ['/a', '/b?x=1', '/c']) {
    const res = await get(p, path, 'GET', { headers: { te: 'trailers', connection: 'x-drop', 'keep-alive': '1', 'x-ok': 'yes' } });
    assert.equal(res.status, 200);
    assert.equal(await text(res), `GET ${path} HTTP/1.1`);
  }
  assert.equal(up.accepted, 1);
  assert.match(up.heads[0], /^GET \/a HTTP\/1\.1\r\nhost: example\.test\r\n/);
  assert.match(up.heads[0], /x-ok: yes/);
  assert.doesNotMatch(up.heads[0], /^(te|connection|keep-alive|content-length|transfer-encoding):/m);
});

test('the pool holds at most `connections` connections; the rest wait their turn', async () => {
  const held: net.Socket[] = [];
  const up = await rawUpstream((s) => { held.push(s); });
  const p = pool(up.port, { connections: 2 });
  const all = Array.from({ length: 6 }, (_, i) => get(p, `/${i}`).then(text));
  await waitFor(() => held.length === 2, 'two requests upstream');
  assert.equal(p.stats.queued, 4);
  // Answer as requests arrive, until all six are done.
  let answered = 0;
  const timer = setInterval(() => { while (answered < held.length) held[answered++].write(ok('x')); }, 5);
  assert.deepEqual(await Promise.all(all), ['x', 'x', 'x', 'x', 'x', 'x']);
  clearInterval(timer);
  assert.equal(up.peak, 2);
  assert.equal(up.accepted, 2);
});

test('bodies: Content-Length, chunked (with trailers) and close-delimited; only the last ends the connection', async () => {
  const up = await rawUpstream((s, head) => {
    const path = head.split(' ')[1];
    if (path === '/cl') s.write(ok('hello'));
    else if (path === '/chunked') s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-sum: 42\r\nx-other: a\r\nx-other: b\r\n\r\n');
    else if (path === '/split') {
      // Head, then the body and trailers in separate writes: the body is streamed.
      s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n');
      setImmediate(() => s.write('0\r\nx-late'));
      setTimeout(() => s.write(': yes\r\n\r\n'), 20);
    } else if (path === '/none') s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n');
    else s.end('HTTP/1.1 200 OK\r\n\r\nuntil close');
  });
  const p = pool(up.port, { connections: 1 });
  const cl = await get(p, '/cl');
  assert.equal(await text(cl), 'hello');
  assert.equal(cl.headers['content-length'], '5');
  const chunked = await get(p, '/chunked');
  assert.equal(await text(chunked), 'hello world');
  assert.equal(chunked.headers['transfer-encoding'], undefined);
  assert.deepEqual(await chunked.trailers, { 'x-sum': '42', 'x-other': 'a, b' });
  const split = await get(p, '/split');
  assert.ok(split.body instanceof Readable);
  assert.equal(await text(split), 'abc');
  assert.deepEqual(await split.trailers, { 'x-late': 'yes' });
  const none = await get(p, '/none');
  assert.equal(await text(none), '');
  assert.equal(none.trailers, undefined);
  assert.equal(up.accepted, 1, 'one connection so far');
  assert.equal(await text(await get(p, '/close')), 'until close');
  assert.equal(await text(await get(p, '/cl')), 'hello');
  assert.equal(up.accepted, 2, 'a close-delimited body ends its connection');
});

test('no body after HEAD, 204 and 304 whatever the fields say; 1xx interim responses are skipped', async () => {
  const up = await rawUpstream((s, head) => {
    const [method, path] = head.split(' ');
    if (method === 'HEAD') s.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
    else if (path === '/204') s.write('HTTP/1.1 204 No Content\r\n\r\n');
    else if (path === '/304') s.write('HTTP/1.1 304 Not Modified\r\netag: "a"\r\ncontent-length: 50\r\n\r\n');
    else s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n' + ok('final'));
  });
  const p = pool(up.port, { connections: 1 });
  const head = await get(p, '/', 'HEAD');
  assert.equal(head.body, null);
  assert.equal(head.headers['content-length'], '1000');
  assert.equal((await get(p, '/204')).body, null);
  const nm = await get(p, '/304');
  assert.equal(nm.status, 304);
  assert.equal(nm.body, null);
  const fin = await get(p, '/1xx');
  assert.equal(fin.status, 200);
  assert.equal(await text(fin), 'final');
  assert.equal(fin.headers['link'], undefined, "an interim response's fields are not the final one's");
  assert.equal(up.accepted, 1, 'every one of these left the connection reusable');
});

test('reuse only when both sides keep the connection: Connection: close, HTTP/1.0, extra bytes and a short Keep-Alive hint end it', async () => {
  const answers: Record<string, string> = {
    '/close': 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\nconnection: close\r\n\r\nc',
    '/http10': 'HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\nh',
    '/http10-ka': 'HTTP/1.0 200 OK\r\ncontent-length: 1\r\nconnection: keep-alive\r\n\r\nk',
    '/extra': 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n',
    '/hint': 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\nkeep-alive: timeout=1\r\n\r\nt',
    '/ok': ok('o'),
  };
  const up = await rawUpstream((s, head) => s.write(answers[head.split(' ')[1]]));
  const p = pool(up.port, { connections: 1 });
  const expect = async (path: string, body: string, reused: boolean) => {
    const before = up.accepted;
    assert.equal(await text(await get(p, path)), body);
    assert.equal(await text(await get(p, '/ok')), 'o');
    // `path` went on the warm connection; `/ok` found it again only if it was kept.
    assert.equal(up.accepted - before, reused ? 0 : 1, `${path}: ${reused ? 'reused' : 'not reused'}`);
  };
  assert.equal(await text(await get(p, '/ok')), 'o');
  await expect('/http10-ka', 'k', true);
  await expect('/close', 'c', false);
  await expect('/http10', 'h', false);
  await expect('/extra', 'x', false);
  await expect('/hint', 't', false);
  // The connection fields themselves never reach the caller (RFC 9110 §7.6.1).
  const res = await get(p, '/http10-ka');
  assert.equal(res.headers['connection'], undefined);
  await text(res);
});

test('an idle connection is closed after keepAliveTimeout', async () => {
  const up = await rawUpstream((s) => s.write(ok('x')));
  const p = pool(up.port, { keepAliveTimeout: 100 });
  assert.equal(await text(await get(p, '/')), 'x');
  assert.equal(p.stats.idle, 1);
  await waitFor(() => up.closed === 1, 'the idle connection closed');
  await waitFor(() => p.stats.open === 0, 'the pool forgot it');
  assert.equal(await text(await get(p, '/')), 'x');
});

test('unix socket servers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-h1c-'));
  const path = join(dir, 'up.sock');
  const server = http.createServer((req, res) => res.end(`${req.headers.host} ${req.url}`));
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const p = h1PoolFor(`unix:${path}`, { connections: 2, connectTimeout: 1_000, timeout: 2_000 });
  t.after(() => p.close());
  assert.equal(await text(await get(p, '/a')), 'example.test /a');
  const noHost = await p.request({ method: 'GET', path: '/b', headers: {}, body: null, signal: null });
  assert.equal(await text(noHost), 'localhost /b', 'a request without Host gets the server authority');
});

const MALFORMED: [string, string][] = [
  ['both Content-Length and Transfer-Encoding', 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
  ['duplicate differing Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd'],
  ['Content-Length list', 'HTTP/1.1 200 OK\r\ncontent-length: 3, 3\r\n\r\nabc'],
  ['negative Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n'],
  ['bad chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'],
  ['chunk longer than its size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
  ['chunked not final', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n'],
  ['bare LF in the head', 'HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok'],
  ['bare LF between fields', 'HTTP/1.1 200 OK\r\nx-a: 1\ncontent-length: 2\r\n\r\nok'],
  ['obs-fold', 'HTTP/1.1 200 OK\r\nx-a: 1\r\n 2\r\ncontent-length: 2\r\n\r\nok'],
  ['space before colon', 'HTTP/1.1 200 OK\r\ncontent-length : 2\r\n\r\nok'],
  ['invalid status line', 'HTTP/1.1 2000 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['HTTP/2.0 status line', 'HTTP/2.0 200 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['not HTTP at all', 'SSH-2.0-OpenSSH\r\n\r\n'],
  ['Transfer-Encoding in HTTP/1.0', 'HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
  ['an unasked-for 101', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n'],
  ['a NUL in a value', 'HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 2\r\n\r\nok'],
  ['a head past the size limit', `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(20_000)}\r\ncontent-length: 2\r\n\r\nok`],
];

test('every malformed response is a 502 UPSTREAM_BAD_RESPONSE and its connection is closed, never reused', async () => {
  let reply = '';
  const up = await rawUpstream((s) => s.write(reply));
  const p = pool(up.port, { connections: 1 });
  for (const [what, bytes] of MALFORMED) {
    reply = bytes;
    const closedBefore = up.closed;
    await assert.rejects(get(p, '/').then(text), (err: { status?: number; code?: string }) => err.status === 502 && err.code === 'UPSTREAM_BAD_RESPONSE', what);
    await waitFor(() => up.closed === closedBefore + 1, `${what}: connection closed`);
  }
  reply = ok('fine');
  assert.equal(await text(await get(p, '/')), 'fine');
  assert.equal(up.accepted, MALFORMED.length + 1);
});

test('a chunked body that turns malformed after the head aborts the stream and closes the connection', async () => {
  const up = await rawUpstream((s) => {
    s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n');
    setTimeout(() => s.write('nothex\r\n'), 10);
  });
  const p = pool(up.port);
  const res = await get(p, '/');
  assert.equal(res.status, 200);
  await assert.rejects(text(res), (err: { code?: string }) => err.code === 'UPSTREAM_BAD_RESPONSE');
  assert.equal(await res.trailers, null);
  await waitFor(() => up.closed === 1, 'connection closed');
});

test('request bodies: Content-Length kept, chunk-framed without one, none for a bodiless GET', async () => {
  const up = await scriptedServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => res.end(JSON.stringify({ cl: req.headers['content-length'] ?? null, te: req.headers['transfer-encoding'] ?? null, body })));
  });
  kit.defer(() => up.close());
  const p = pool(up.port, { connections: 1 });
  const echo = async (method: string, body?: Readable, headers?: Record<string, string>) => JSON.parse(await text(await get(p, '/', method, { body, headers })));
  assert.deepEqual(await echo('GET'), { cl: null, te: null, body: '' });
  assert.deepEqual(await echo('POST'), { cl: '0', te: null, body: '' }, 'RFC 9110 §8.6: a bodiless POST says so');
  assert.deepEqual(await echo('PUT', Readable.from([Buffer.from('ab'), Buffer.from('cd')]), { 'content-length': '4' }), { cl: '4', te: null, body: 'abcd' });
  assert.deepEqual(await echo('POST', Readable.from([Buffer.from('hello'), Buffer.from(' world')])), { cl: null, te: 'chunked', body: 'hello world' });
  // A large streamed body goes up with backpressure, and the connection is reused afterwards.
  const big = Buffer.alloc(8 * 1024 * 1024, 0x63);
  const r = await echo('POST', Readable.from([big.subarray(0, 4 << 20), big.subarray(4 << 20)]), { 'content-length': String(big.length) });
  assert.equal(r.body.length, big.length);
  assert.equal(p.stats.open, 1);
});

test('a field or target that would split the request head is refused before anything is sent', async () => {
  const up = await rawUpstream((s) => s.write(ok('x')));
  const p = pool(up.port);
  await assert.rejects(get(p, '/', 'GET', { headers: { 'x-evil': 'a\r\nx-injected: 1' } }));
  await assert.rejects(get(p, '/a b'));
  await assert.rejects(get(p, '/', 'GET', { headers: { 'bad name': 'x' } }));
  assert.equal(up.accepted, 0);
});
