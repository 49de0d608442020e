// The portico engine's listener on loopback: refusals close, pipelining is one at a time, bodies
// stream both ways with backpressure, deadlines hold, and the access log gets exact byte counts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import type { Handler, PorticoRequest, PorticoResponse } from '../../http/types.ts';
import type { RequestContext } from '../../http/context.ts';
import { DEFAULT_LIMITS, type EdgeLimits } from '../limits.ts';
import { trustedPeers } from '../trusted-peers.ts';
import { type H1Server, createH1Server } from './h1-server.ts';
import { exchange, statuses } from '../../../test/helpers/raw-http.ts';
import { waitFor } from '../../../test/helpers/servers.ts';

const closers: (() => void)[] = [];
after(() => { for (const c of closers) c(); });

interface Started { port: number; logged: { req: PorticoRequest; res: PorticoResponse; ctx: RequestContext }[]; calls: number; h1: H1Server }

async function start(handler: Handler, limits: Partial<EdgeLimits> = {}): Promise<Started> {
  const state = { port: 0, logged: [], calls: 0 } as unknown as Started;
  const h1 = state.h1 = createH1Server({
    handler: (req, ctx) => { state.calls++; return handler(req, ctx); },
    trusted: trustedPeers([]),
    onResponse: (req, res, ctx) => state.logged.push({ req, res, ctx }),
  }, { policy: null, limits: { ...DEFAULT_LIMITS, ...limits } });
  await new Promise<void>((r) => h1.server.listen(0, '127.0.0.1', r));
  closers.push(() => { h1.closeAllConnections(); h1.server.close(); });
  state.port = (h1.server.address() as net.AddressInfo).port;
  return state;
}

const ok: Handler = (req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: `${req.method} ${req.target}` });
const H = 'Host: a\r\n';

test('refused heads get their status and a closed connection; the handler never runs', async () => {
  const s = await start(ok, { maxHeaderSize: 2048, maxUrlLength: 512 });
  const cases: [string, number][] = [
    [`GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`, 400],
    [`GET / HTTP/1.1\nHost: a\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${H}X : 1\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${H}X: \x01\r\n\r\n`, 400],
    [`POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`, 400],
    [`POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    [`POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`, 400],
    [`POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${H}${H}\r\n`, 400],
    [`GET / HTTP/1.1\r\n${H}X: ${'a'.repeat(3000)}\r\n\r\n`, 431],
    [`GET /${'a'.repeat(600)} HTTP/1.1\r\n${H}\r\n`, 414],
    [`GET / HTTP/2.0\r\n${H}\r\n`, 505],
  ];
  for (const [text, status] of cases) {
    const a = await exchange(s.port, text);
    assert.deepEqual(statuses(a.text), [status], JSON.stringify(text));
    assert.ok(a.closed, `closed after ${JSON.stringify(text)}`);
    assert.match(a.text, /x-request-id: [\w-]+\r\n/);
  }
  assert.equal(s.calls, 0);
  assert.equal(s.logged.length, cases.length, 'each refusal has an access-log line');
});

test('pipelined requests are answered one at a time, in order', async () => {
  const order: string[] = [];
  let release: () => void = () => {};
  const s = await start(async (req) => {
    order.push(`start ${req.target}`);
    if (req.target === '/1') await new Promise<void>((r) => (release = r));
    order.push(`end ${req.target}`);
    return { status: 200, headers: {}, body: req.target };
  });
  const answer = exchange(s.port, `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}\r\nGET /3 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  await waitFor(() => order.length === 1, 'the first request');
  assert.deepEqual(order, ['start /1'], 'the second waits for the first response');
  release();
  const a = await answer;
  assert.deepEqual(order, ['start /1', 'end /1', 'start /2', 'end /2', 'start /3', 'end /3']);
  assert.deepEqual(statuses(a.text), [200, 200, 200]);
  assert.match(a.text, /\/1HTTP\/1\.1 200[^]*\/2HTTP\/1\.1 200[^]*connection: close\r\n\r\n\/3$/);
  assert.ok(a.closed);
});

test('a Content-Length body streams with backpressure: an unread body stops the socket being read', async () => {
  let body: Readable | null = null;
  const total = 32 * 1024 * 1024;
  const s = await start((req) => {
    body = req.body;
    return new Promise(() => {}); // never answers; the test reads the body itself
  });
  const client = net.connect(s.port, '127.0.0.1');
  closers.push(() => client.destroy());
  client.write(`POST / HTTP/1.1\r\n${H}Content-Length: ${total}\r\n\r\n`);
  client.write(Buffer.alloc(total, 0x61));
  const b = await waitFor(() => body, 'the request');
  await waitFor(() => b.readableLength >= b.readableHighWaterMark, 'the body buffer to fill');
  // Bounded polling: without backpressure the server would read all 32 MiB within these 500 ms.
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 25));
    assert.ok(b.readableLength < 512 * 1024, `buffered ${b.readableLength} bytes`);
  }
  assert.ok(client.writableLength > 8 * 1024 * 1024, 'the client is held back');
  let n = 0;
  for await (const c of b) n += (c as Buffer).length;
  assert.equal(n, total);
});

test('chunked bodies stream; bad chunk framing and chunk-size overflow are 400 and close', async () => {
  const s = await start(async (req) => {
    if (req.body === null) return ok(req, null as unknown as RequestContext);
    const parts: Buffer[] = [];
    for await (const c of req.body!) parts.push(c as Buffer);
    return { status: 200, headers: {}, body: Buffer.concat(parts) };
  });
  const good = await exchange(s.port, [`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`, `2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n`, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`]);
  assert.deepEqual(statuses(good.text), [200, 200]);
  assert.match(good.text, /content-length: 5\r\n\r\nabcde/);
  for (const bad of ['3\r\nabcX\r\n0\r\n\r\n', 'zz\r\n', 'ffffffffffffff\r\n', '3\nabc\r\n0\r\n\r\n']) {
    const a = await exchange(s.port, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${bad}GET /next HTTP/1.1\r\n${H}\r\n`);
    assert.deepEqual(statuses(a.text), [400], JSON.stringify(bad));
    assert.match(a.text, /BAD_CHUNKED_BODY/);
    assert.ok(a.closed);
  }
});

test('Expect: 100-continue is answered before the body is sent', async () => {
  const s = await start(async (req) => {
    let n = 0;
    for await (const c of req.body!) n += (c as Buffer).length;
    return { status: 200, headers: {}, body: String(n) };
  });
  const client = net.connect(s.port, '127.0.0.1');
  closers.push(() => client.destroy());
  let text = '';
  client.setEncoding('latin1').on('data', (d: string) => (text += d));
  client.write(`POST / HTTP/1.1\r\n${H}Content-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
  await waitFor(() => text.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), '100 Continue');
  client.write('abcd');
  await waitFor(() => text.endsWith('\r\n\r\n4'), 'the final response');
});

test('Expect: 100-continue is answered only when the body is read: a final answer first means no 100 and a close', async () => {
  const s = await start(async (req) => {
    if (req.path === '/refuse') return { status: 413, headers: {}, body: 'too big' };
    let n = 0;
    for await (const c of req.body!) n += (c as Buffer).length;
    return { status: 200, headers: {}, body: String(n) };
  });
  // The client never sends the body: it waits for 100 or a final status (RFC 9110 §10.1.1).
  const refused = await exchange(s.port, `POST /refuse HTTP/1.1\r\n${H}Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n`);
  assert.match(refused.text, /^HTTP\/1\.1 413 [^]*connection: close\r\n/);
  assert.doesNotMatch(refused.text, /100 Continue/);
  assert.ok(refused.closed, 'the unread body is not waited for');
  // An HTTP/1.0 client cannot read a 1xx: the expectation is ignored, the body is read as sent.
  const old = await exchange(s.port, `POST / HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi`);
  assert.match(old.text, /^HTTP\/1\.1 200 [^]*\r\n\r\n2$/);
  // Body bytes sent without waiting: no 100 either (it would only confuse the client).
  const eager = await exchange(s.port, `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhi`);
  assert.match(eager.text, /^HTTP\/1\.1 200 [^]*\r\n\r\n2$/);
  // Another expectation: 417 without reading anything (request-head.ts).
  const other = await exchange(s.port, `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\nExpect: magic\r\n\r\nhi`);
  assert.deepEqual(statuses(other.text), [417]);
});

test('responses: HEAD, 204 and 304 carry no body; streams are chunked or length-checked; Connection: close honoured', async () => {
  const s = await start((req) => {
    if (req.path === '/204') return { status: 204, headers: {}, body: 'ignored' };
    if (req.path === '/304') return { status: 304, headers: { etag: '"x"' }, body: null };
    if (req.path === '/stream') return { status: 200, headers: {}, body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) };
    if (req.path === '/sized') return { status: 200, headers: { 'content-length': '4' }, body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) };
    if (req.path === '/short') return { status: 200, headers: { 'content-length': '10' }, body: Readable.from([Buffer.from('ab')]) };
    return ok(req, null as unknown as RequestContext);
  });
  const a = await exchange(s.port, `HEAD /x HTTP/1.1\r\n${H}\r\nGET /204 HTTP/1.1\r\n${H}\r\nGET /304 HTTP/1.1\r\n${H}\r\nGET /stream HTTP/1.1\r\n${H}\r\nGET /sized HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /never HTTP/1.1\r\n${H}\r\n`);
  assert.deepEqual(statuses(a.text), [200, 204, 304, 200, 200]);
  const [head, n204, n304, stream, sized] = a.text.split(/(?=HTTP\/1\.1 )/);
  assert.match(head, /content-length: 7\r\n\r\n$/, 'HEAD keeps the length, sends no body');
  assert.match(n204, /\r\n\r\n$/);
  assert.doesNotMatch(n204, /content-length/);
  assert.match(n304, /etag: "x"\r\n[^]*\r\n\r\n$/);
  assert.match(stream, /transfer-encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n$/);
  assert.match(sized, /content-length: 4\r\nconnection: close\r\n\r\nabcd$/);
  assert.ok(a.closed);
  const short = await exchange(s.port, `GET /short HTTP/1.1\r\n${H}\r\n`);
  assert.ok(short.closed, 'a body shorter than its Content-Length ends in a close, never a keep-alive');
  assert.match(short.text, /\r\n\r\nab$/);
});

test('a layer cannot split the response: an invalid header value or status is a 502', async () => {
  const s = await start((req): PorticoResponse => req.path === '/status'
    ? { status: 99, headers: {}, body: 'x' }
    : { status: 200, headers: { 'x-a': 'ok\r\nset-cookie: evil=1' }, body: 'x' });
  for (const path of ['/header', '/status']) {
    const a = await exchange(s.port, `GET ${path} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.deepEqual(statuses(a.text), [502]);
    assert.match(a.text, /BAD_RESPONSE_HEADER/);
    assert.doesNotMatch(a.text, /evil/);
  }
});

test('handler errors become error responses; the connection survives them', async () => {
  const s = await start((req) => {
    if (req.path === '/throw') throw new Error('boom');
    return ok(req, null as unknown as RequestContext);
  });
  const a = await exchange(s.port, `GET /throw HTTP/1.1\r\n${H}\r\nGET /fine HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  assert.deepEqual(statuses(a.text), [500, 200], 'the connection survives a handler error');
});

test('upgrades: handed over with the bytes past the head, ignored without a taker or with a body; closeAllConnections cuts tunnels', async () => {
  const s = await start(ok);
  const upgrade = `GET /ws HTTP/1.1\r\n${H}Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n`;
  // No 'upgrade' listener: an ordinary request, its Upgrade ignored (RFC 9110 §7.8).
  const plain = await exchange(s.port, upgrade + `GET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  assert.deepEqual(statuses(plain.text), [200, 200]);
  assert.match(plain.text, /\r\n\r\nGET \/wsHTTP/);

  const taken: { url: string; head: string; method: string }[] = [];
  s.h1.server.on('upgrade', (req: { url: string; method: string }, socket: net.Socket, head: Buffer) => {
    taken.push({ url: req.url, method: req.method, head: head.toString('latin1') });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    socket.write(head);
    socket.pipe(socket); // an echo tunnel: the socket was left paused, so no byte is lost
  });
  const client = net.connect(s.port, '127.0.0.1');
  let got = '';
  client.setEncoding('latin1').on('data', (d: string) => (got += d));
  client.write(upgrade + 'early');
  await waitFor(() => got.endsWith('\r\n\r\nearly'), 'the 101 and the bytes that came with the head');
  client.write('late'); // after the hand-over: read by the tunnel, not by the engine
  await waitFor(() => got.endsWith('earlylate'), 'the echo of a later write');
  assert.match(got, /^HTTP\/1\.1 101 /);
  client.destroy();
  assert.deepEqual(taken, [{ url: '/ws', method: 'GET', head: 'early' }]);
  assert.equal(s.calls, 2, 'the handler never saw the upgrade');

  // An upgrade with a body is served as a request: where its body ends is known, a tunnel's is not.
  const withBody = await exchange(s.port, `POST /up HTTP/1.1\r\n${H}Connection: Upgrade, close\r\nUpgrade: websocket\r\nContent-Length: 2\r\n\r\nhi`);
  assert.deepEqual(statuses(withBody.text), [200]);
  assert.equal(taken.length, 1);

  const held = exchange(s.port, upgrade, 5_000);
  await waitFor(() => taken.length === 2, 'the second tunnel');
  s.h1.closeAllConnections();
  assert.ok((await held).closed, 'the shutdown deadline cuts an open tunnel');
});

test('deadlines: a slow head gets 408 and close, an idle keep-alive connection is closed', async () => {
  const s = await start(ok, { headersTimeout: 200, keepAliveTimeout: 200 });
  const started = performance.now();
  const slow = await exchange(s.port, `GET / HTTP/1.1\r\n${H}`, 3_000);
  assert.deepEqual(statuses(slow.text), [408]);
  assert.ok(slow.closed);
  const idle = await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`, 3_000);
  assert.deepEqual(statuses(idle.text), [200]);
  assert.ok(idle.closed, 'closed after keepAliveTimeout');
  assert.ok(performance.now() - started < 2_500);
});

test('the access log gets exact byte counts per response', async () => {
  const s = await start((req) => req.path === '/stream'
    ? { status: 200, headers: {}, body: Readable.from([Buffer.from('abc')]) }
    : { status: 200, headers: {}, body: 'hello' });
  const a = await exchange(s.port, `GET /a HTTP/1.1\r\n${H}\r\nGET /stream HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  assert.ok(a.closed);
  const [first, second] = a.text.split(/(?=HTTP\/1\.1 )/);
  await waitFor(() => s.logged.length === 2, 'two log entries');
  assert.equal(s.logged[0].ctx.bytesSent, Buffer.byteLength(first));
  assert.equal(s.logged[0].ctx.bodyBytesSent, 5);
  assert.equal(s.logged[1].ctx.bytesSent, Buffer.byteLength(second));
  assert.equal(s.logged[1].ctx.bodyBytesSent, Buffer.byteLength('3\r\nabc\r\n0\r\n\r\n'), 'chunk framing counts, as node:http counts it');
});

test('closing the listener: idle connections close at once, the response in flight is the last and says so', async () => {
  let release: () => void = () => {};
  const s = await start(async (req) => {
    if (req.path === '/slow') await new Promise<void>((r) => (release = r));
    return { status: 200, headers: {}, body: 'done' };
  });
  const idle = exchange(s.port, `GET /quick HTTP/1.1\r\n${H}\r\n`, 5_000);
  const busy = exchange(s.port, `GET /slow HTTP/1.1\r\n${H}\r\n`, 5_000);
  await waitFor(() => s.calls === 2 && s.logged.length === 1, 'both requests, the quick one answered');
  const closed = new Promise<void>((r) => s.h1.server.close(() => r()));
  s.h1.closeIdleConnections();
  const first = await idle;
  assert.ok(first.closed, 'the idle keep-alive connection is closed by closeIdleConnections');
  release();
  const last = await busy;
  assert.match(last.text, /connection: close\r\n\r\ndone$/);
  assert.ok(last.closed);
  await closed;
});

test('thousands of pipelined requests answered synchronously neither overflow the stack nor reorder', async () => {
  const s = await start((req) => ({ status: 200, headers: {}, body: req.path }));
  const n = 5_000;
  let text = '';
  for (let i = 0; i < n; i++) text += `GET /${i} HTTP/1.1\r\n${H}${i === n - 1 ? 'Connection: close\r\n' : ''}\r\n`;
  const a = await exchange(s.port, text, 20_000);
  assert.ok(a.closed);
  const bodies = [...a.text.matchAll(/\r\n\r\n(\/\d+)/g)].map((m) => m[1]);
  assert.equal(bodies.length, n);
  assert.deepEqual(bodies.slice(0, 3), ['/0', '/1', '/2']);
  assert.equal(bodies[n - 1], `/${n - 1}`);
  assert.ok(bodies.every((b, i) => b === `/${i}`), 'in order');
});

test('a body that does not arrive within requestTimeout gets 408 and the connection is closed', async () => {
  let bodyError: Error | null = null;
  const s = await start(async (req) => {
    try {
      for await (const c of req.body!) void c;
    } catch (err) {
      bodyError = err as Error;
    }
    return { status: 200, headers: {}, body: 'read' };
  }, { headersTimeout: 200, requestTimeout: 300 });
  const a = await exchange(s.port, `POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`, 3_000);
  assert.deepEqual(statuses(a.text), [408]);
  assert.match(a.text, /REQUEST_TIMEOUT/);
  assert.ok(a.closed);
  await waitFor(() => bodyError, 'the handler to see the body fail');
});
