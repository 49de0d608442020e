// Portico's upstream HTTP/1.1 client when things go wrong: timeouts, aborts (the socket is
// destroyed, never pooled), consumers that leave, stale keep-alive connections (resent once when
// safe), connect failures with the codes the retry rules know, and backpressure.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { h1PoolFor } from './for-server.ts';
import type { UpstreamResponse } from './exchange.ts';
import { RequestContext } from '../../http/context.ts';
import { isRetryable } from '../retryable.ts';
import { waitFor } from '../../../test/helpers/servers.ts';
import { get, ok, text, upstreamKit } from '../../../test/helpers/raw-upstream.ts';

const kit = upstreamKit();
after(() => kit.close());
const { rawUpstream, pool } = kit;

test('timeouts: no head within `timeout`, no body byte within `bodyTimeout`', async () => {
  const up = await rawUpstream((s, head) => {
    if (head.startsWith('GET /slow-body')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
    // '/silent' never answers
  });
  const p = pool(up.port, { timeout: 150, bodyTimeout: 150 });
  await assert.rejects(get(p, '/silent'), (err: Error & { code?: string }) => err.code === 'UND_ERR_HEADERS_TIMEOUT');
  const res = await get(p, '/slow-body');
  await assert.rejects(text(res), (err: Error & { code?: string }) => err.code === 'UND_ERR_BODY_TIMEOUT');
  await waitFor(() => up.closed === 2, 'both connections closed');
});

test('a reused connection keeps its shorter keep-alive timer and still waits the full `timeout` for a head', async () => {
  // keepAliveTimeout < timeout: the connection keeps its 60 ms keep-alive timer while it waits for the
  // second head and tops it up when it fires (connection.ts arm()): the wait must be the whole 400 ms
  // of silence, counted again from a byte that arrives meanwhile, neither 60 ms nor forever.
  const up = await rawUpstream((s, head, n) => {
    if (n === 0) s.write(ok('first'));
    else if (head.startsWith('GET /partial')) setTimeout(() => s.write('HTTP/1.1 200 OK\r\n'), 200);
    // else: silent
  });
  const p = pool(up.port, { connections: 1, timeout: 400, keepAliveTimeout: 60 });
  assert.equal(await text(await get(p, '/')), 'first');
  let started = performance.now();
  await assert.rejects(get(p, '/silent'), (err: Error & { code?: string }) => err.code === 'UND_ERR_HEADERS_TIMEOUT');
  let waited = performance.now() - started;
  assert.ok(waited >= 380 && waited < 2_000, `timed out after ${waited} ms, not ~400`);
  assert.equal(up.accepted, 1, 'the silent request went on the reused connection');
  await waitFor(() => p.stats.open === 0, 'the timed-out connection is gone');
  assert.equal(await text(await get(p, '/')), 'first');
  started = performance.now();
  await assert.rejects(get(p, '/partial'), (err: Error & { code?: string }) => err.code === 'UND_ERR_HEADERS_TIMEOUT');
  waited = performance.now() - started;
  assert.ok(waited >= 580 && waited < 2_500, `a byte at 200 ms must restart the 400 ms wait: timed out after ${waited} ms`);
});

test('an abort destroys the connection: while waiting for the head, and mid-body', async () => {
  const up = await rawUpstream((s, head) => {
    if (head.startsWith('GET /body')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc');
  });
  const p = pool(up.port, { connections: 1 });
  const a = new AbortController();
  const waiting = get(p, '/head', 'GET', { signal: a.signal });
  await waitFor(() => up.heads.length === 1, 'request upstream');
  a.abort();
  await assert.rejects(waiting, (err: Error & { code?: string }) => err.code === 'UND_ERR_ABORTED');
  await waitFor(() => up.closed === 1, 'connection closed after abort before head');
  const b = new AbortController();
  const res = await get(p, '/body', 'GET', { signal: b.signal });
  b.abort();
  await assert.rejects(text(res));
  await waitFor(() => up.closed === 2, 'connection closed after abort mid-body');
  // A consumer that destroys the body (the client went away) closes it too.
  const res2 = await get(p, '/body');
  (res2.body as Readable).destroy();
  await waitFor(() => up.closed === 3, 'connection closed after the body was destroyed');
  await waitFor(() => p.stats.open === 0, 'the pool forgot every closed connection');
  // An already-aborted signal never reaches the server.
  await assert.rejects(get(p, '/head', 'GET', { signal: AbortSignal.abort() }), (err: Error & { code?: string }) => err.code === 'UND_ERR_ABORTED');
  assert.equal(up.heads.length, 3);
});

test('a consumer that destroys the body from its data handler, mid-read, closes the connection cleanly', async () => {
  const up = await rawUpstream((s) => {
    s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n');
    // The rest, end included, in one read: the consumer's destroy happens inside it.
    setTimeout(() => s.write('3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n'), 20);
  });
  const p = pool(up.port);
  const res = await get(p, '/');
  const body = res.body as Readable;
  let seen = 0;
  body.on('data', () => { if (++seen === 2) body.destroy(); });
  await new Promise((r) => body.once('close', r));
  assert.equal(seen, 2);
  assert.equal(await res.trailers, null);
  await waitFor(() => up.closed === 1, 'connection closed');
  await waitFor(() => p.stats.open === 0, 'the pool forgot it');
});

test('a queued request whose client leaves is dropped from the queue', async () => {
  const held: net.Socket[] = [];
  const up = await rawUpstream((s) => { held.push(s); });
  const p = pool(up.port, { connections: 1 });
  const first = get(p, '/1');
  await waitFor(() => held.length === 1, 'first upstream');
  const a = new AbortController();
  const queued = get(p, '/2', 'GET', { signal: a.signal });
  assert.equal(p.stats.queued, 1);
  a.abort();
  await assert.rejects(queued, (err: Error & { code?: string }) => err.code === 'UND_ERR_ABORTED');
  assert.equal(p.stats.queued, 0);
  held[0].write(ok('one'));
  assert.equal(await text(await first), 'one');
  assert.equal(up.heads.length, 1);
});

test('stale keep-alive connections: a server that closes an idle one, or closes as we write, costs no request', async () => {
  // The server answers, then closes the connection at once (its keep-alive timeout is zero).
  const closing = await rawUpstream((s) => s.end(ok('bye')));
  const p1 = pool(closing.port, { connections: 1 });
  assert.equal(await text(await get(p1, '/')), 'bye');
  await waitFor(() => p1.stats.open === 0, 'the pool saw the close');
  assert.equal(await text(await get(p1, '/')), 'bye');

  // The server drops the second request on a connection without answering: the keep-alive race.
  const racing = await rawUpstream((s, _head, n) => { if (n === 0) s.write(ok('first')); else s.destroy(); });
  const p2 = pool(racing.port, { connections: 1 });
  assert.equal(await text(await get(p2, '/')), 'first');
  assert.equal(await text(await get(p2, '/')), 'first', 'an idempotent request is sent again on a fresh connection');
  assert.equal(racing.accepted, 2);
  // A POST with a body is never sent twice: the server may have acted on it.
  const post = get(p2, '/', 'POST', { body: Readable.from([Buffer.from('data')]), headers: { 'content-length': '4' } });
  const err = await post.then(() => null, (e: unknown) => e);
  assert.equal((err as { code?: string }).code, 'UND_ERR_SOCKET');
  assert.equal(racing.accepted, 2, 'no new connection for the POST');
  assert.equal(isRetryable(err, { method: 'POST', body: Readable.from([]) } as never), false);
});

test('connect failures carry the system code the retry rules know', async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  const err = await get(pool(port), '/').then(() => null, (e: unknown) => e);
  assert.equal((err as { code?: string }).code, 'ECONNREFUSED');
  assert.equal(isRetryable(err, { method: 'POST', body: null } as never), true);
  const unix = h1PoolFor('unix:/nonexistent/portico.sock', { connections: 1, connectTimeout: 1_000, timeout: 1_000 });
  const err2 = await get(unix, '/').then(() => null, (e: unknown) => e);
  assert.equal((err2 as { code?: string }).code, 'ENOENT');
});

test('backpressure: a consumer that stops reading stops the upstream; memory stays bounded', async () => {
  const TOTAL = 256 * 1024 * 1024;
  const block = Buffer.alloc(1024 * 1024, 0x62);
  let server: net.Socket | null = null;
  const up = await rawUpstream((s) => {
    server = s;
    s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${TOTAL}\r\n\r\n`);
    let sent = 0;
    const pump = () => {
      while (sent < TOTAL) {
        sent += block.length;
        if (!s.write(block)) return void s.once('drain', pump);
      }
    };
    pump();
  });
  const p = pool(up.port, { bodyTimeout: 60_000 });
  const res = await get(p, '/big');
  const body = res.body as Readable;
  // Nobody reads: the client's buffers, then the kernel's, then the server's fill up and stop.
  let last = -1;
  let still = 0;
  let accepted = 0;
  await waitFor(() => {
    const s = server as net.Socket | null;
    accepted = s === null ? 0 : s.bytesWritten - s.writableLength;
    still = accepted === last ? still + 1 : 0;
    last = accepted;
    return still >= 8;
  }, 'the upstream to stall', 20_000);
  assert.ok(accepted > 0 && accepted < 64 * 1024 * 1024, `upstream got ${accepted} bytes out while nobody read`);
  let n = 0;
  for await (const c of body) n += (c as Buffer).length;
  assert.equal(n, TOTAL);
});

test('send(): a sink hears the answer without a promise; a RequestContext watches the client leave (no AbortController)', async () => {
  const up = await rawUpstream((s, head) => {
    if (head.startsWith('GET /now')) s.write(ok('now'));
    // '/never' never answers
  });
  const p = pool(up.port, { connections: 1 });
  const answered = Promise.withResolvers<UpstreamResponse>();
  p.send({ method: 'GET', path: '/now', headers: { host: 'example.test' }, body: null, signal: null }, answered);
  assert.equal(await text(await answered.promise), 'now');
  // The edge's context as the abort watch: the client leaving fails the exchange and closes its connection.
  const ctx = new RequestContext('127.0.0.1', false, '127.0.0.1', 1, 'http', 'example.test');
  const failed = Promise.withResolvers<UpstreamResponse>();
  p.send({ method: 'GET', path: '/never', headers: { host: 'example.test' }, body: null, signal: ctx }, failed);
  await waitFor(() => up.heads.length === 2, 'request upstream');
  ctx.abort();
  await assert.rejects(failed.promise, (err: Error & { code?: string }) => err.code === 'UND_ERR_ABORTED');
  await waitFor(() => up.closed === 1, 'connection closed after the client left');
  // A context the client already left is refused at once (synchronously), before anything is sent.
  let refused: unknown = null;
  p.send({ method: 'GET', path: '/now', headers: { host: 'example.test' }, body: null, signal: ctx }, { resolve: () => assert.fail('sent'), reject: (err) => { refused = err; } });
  assert.equal((refused as { code?: string } | null)?.code, 'UND_ERR_ABORTED');
  assert.equal(up.heads.length, 2);
});
