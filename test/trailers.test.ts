// Trailer fields end to end (RFC 9110 §6.5, RFC 9112 §7.1.2), on both edge engines over raw
// sockets: an upstream's trailers reach a client whose response is chunked, minus the fields that
// may not be trailers (§6.5.1); never on HTTP/1.0, HEAD, compressed or cached responses; a request's
// own trailers are dropped (undici cannot send them) without disturbing the framing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startStack, type TestStack } from './helpers/stack.ts';
import { scriptedServer, type Scripted } from './helpers/servers.ts';
import { UPSTREAM_CLIENTS } from './helpers/upstream-client.ts';

interface Parsed {
  head: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** null when the body was not chunked, or the connection closed before the last chunk. */
  trailers: Record<string, string> | null;
}

/** Sends raw bytes, reads until the server closes (requests carry `Connection: close`). */
function exchange(port: number, raw: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

function parse(bytes: Buffer): Parsed {
  const end = bytes.indexOf('\r\n\r\n');
  assert.ok(end > 0, `no response head in ${JSON.stringify(bytes.toString('latin1'))}`);
  const head = bytes.subarray(0, end).toString('latin1');
  const lines = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(lines[0].split(' ')[1]);
  let rest = bytes.subarray(end + 4);
  if (headers['transfer-encoding'] !== 'chunked') return { head, status, headers, body: rest, trailers: null };
  const parts: Buffer[] = [];
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return { head, status, headers, body: Buffer.concat(parts), trailers: null };
    const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
    rest = rest.subarray(eol + 2);
    if (size === 0) break;
    parts.push(rest.subarray(0, size));
    rest = rest.subarray(size + 2);
  }
  const section = rest.toString('latin1');
  if (!section.endsWith('\r\n')) return { head, status, headers, body: Buffer.concat(parts), trailers: null };
  const trailers: Record<string, string> = {};
  for (const line of section.split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    trailers[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return { head, status, headers, body: Buffer.concat(parts), trailers };
}

/** What the upstream sends after its body: one allowed field, a repeated one, and forbidden ones. */
function sendWithTrailers(req: http.IncomingMessage, res: http.ServerResponse, body: string, headers: Record<string, string> = {}): void {
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'content-type': 'text/plain', ...headers }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum', ...headers });
  res.write(body.slice(0, 3));
  res.addTrailers([
    ['X-Checksum', 'sha256=abc'], ['X-Multi', '1'], ['X-Multi', '2'], ['Server-Timing', 'db;dur=5'],
    // RFC 9110 §6.5.1: framing, routing, auth and response controls must never arrive late.
    // (Content-Length / Transfer-Encoding trailers never get this far: llhttp fails the response.)
    ['Host', 'evil.example'], ['Set-Cookie', 'a=b'], ['Authorization', 'Bearer x'], ['Content-Encoding', 'gzip'],
    ['Cache-Control', 'no-store'], ['Location', '/elsewhere'], ['Content-Type', 'text/html'], ['X-Request-Id', 'forged'],
  ]);
  res.end(body.slice(3));
}

const EXPECTED = { 'x-checksum': 'sha256=abc', 'x-multi': '1, 2', 'server-timing': 'db;dur=5' };

for (const engine of ['node', 'portico'] as const) for (const client of UPSTREAM_CLIENTS) {
  describe(`${engine} engine, ${client} client: trailers`, () => {
    let upstream: Scripted;
    let s: TestStack;
    let port: number;
    const seen: { url: string; body: string; trailers: Record<string, string | undefined>; headers: http.IncomingHttpHeaders }[] = [];

    before(async () => {
      upstream = await scriptedServer((req, res) => {
        let body = '';
        req.setEncoding('latin1').on('data', (c: string) => (body += c)).on('end', () => {
          seen.push({ url: req.url ?? '', body, trailers: { ...req.trailers }, headers: req.headers });
          if (req.url === '/fail-mid') {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.write('partial');
            setImmediate(() => res.socket?.destroy());
          } else if (req.url === '/big') sendWithTrailers(req, res, 'x'.repeat(4096));
          else if (req.url?.startsWith('/cached')) sendWithTrailers(req, res, 'cacheable', { 'cache-control': 'max-age=60' });
          else if (req.url === '/none') {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.write('no ');
            res.end('trailers');
          } else if (req.url === '/echo') res.end(`got ${JSON.stringify(body)}`);
          else sendWithTrailers(req, res, 'hello world');
        });
      });
      s = await startStack({
        listeners: [{ host: '127.0.0.1', port: 0, engine }],
        // undici's request() collects trailers (src/proxy/upstream-response.ts); the own client
        // (pools.*.client: 'portico') fills the same contract in src/proxy/h1-client.
        pools: { web: { client, servers: [{ url: upstream.url }] } },
        routes: [
          { path: '/big', upstream: 'web', compress: true },
          { path: '/cached', upstream: 'web', cache: true },
          { upstream: 'web' },
        ],
      });
      port = s.stack.addresses()[0].port;
    });
    after(async () => {
      await s.close();
      await upstream.close();
    });

    it('an HTTP/1.1 client gets the chunked body and the allowed trailers, never framing, routing or control fields', async () => {
      const r = parse(await exchange(port, 'GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      assert.equal(r.status, 200);
      assert.equal(r.headers['transfer-encoding'], 'chunked');
      assert.equal(r.body.toString(), 'hello world');
      assert.deepEqual(r.trailers, EXPECTED);
      // Nothing is declared that might not be sent: the upstream's Trailer field is not passed on.
      assert.equal(r.headers.trailer, undefined);
      assert.equal(r.headers['set-cookie'], undefined);
    });

    it('a chunked response without trailers ends with an empty trailer section (or goes out whole with Content-Length)', async () => {
      const r = parse(await exchange(port, 'GET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      assert.equal(r.body.toString(), 'no trailers');
      // The own client hands over a body that arrived whole with its head as one buffer: the
      // edge then sends it with Content-Length, equally valid framing with nothing to trail.
      if (r.headers['transfer-encoding'] === 'chunked') assert.deepEqual(r.trailers, {});
      else assert.equal(r.headers['content-length'], String('no trailers'.length));
    });

    it('an HTTP/1.0 client gets the whole body delimited by the close, and no trailers', async () => {
      const bytes = await exchange(port, 'GET /t HTTP/1.0\r\nHost: x\r\n\r\n');
      const r = parse(bytes);
      assert.equal(r.headers['transfer-encoding'], undefined);
      assert.equal(r.body.toString(), 'hello world');
      assert.doesNotMatch(bytes.toString('latin1'), /sha256=abc/);
    });

    it('HEAD gets no body and no trailers', async () => {
      const bytes = await exchange(port, 'HEAD /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const text = bytes.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 /);
      assert.ok(text.endsWith('\r\n\r\n'), 'the head only');
      assert.doesNotMatch(text, /sha256=abc/);
    });

    it('a body Portico compressed carries no trailers (an integrity trailer would describe other bytes)', async () => {
      const r = parse(await exchange(port, 'GET /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n'));
      assert.equal(r.headers['content-encoding'], 'gzip');
      assert.equal(gunzipSync(r.body).toString(), 'x'.repeat(4096));
      assert.deepEqual(r.trailers, {});
    });

    it('the same route uncompressed (no Accept-Encoding) passes the trailers on', async () => {
      const r = parse(await exchange(port, 'GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      assert.equal(r.body.length, 4096);
      assert.deepEqual(r.trailers, EXPECTED);
    });

    it('a cached route carries none, on the miss that stores and on the hit (stored responses have no trailers)', async () => {
      const miss = parse(await exchange(port, 'GET /cached/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      assert.equal(miss.body.toString(), 'cacheable');
      assert.doesNotMatch(miss.head, /x-cache: HIT/i);
      const hit = await exchange(port, 'GET /cached/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(hit.toString('latin1'), /x-cache: HIT/i);
      assert.doesNotMatch(hit.toString('latin1'), /sha256=abc/);
      assert.ok(miss.trailers === null || Object.keys(miss.trailers).length === 0, 'no trailers on the miss');
    });

    it('an upstream failing mid-body: the client connection is cut before any last chunk or trailer', async () => {
      const r = parse(await exchange(port, 'GET /fail-mid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      assert.equal(r.status, 200);
      assert.equal(r.trailers, null, 'no last-chunk: the client sees a truncated body');
    });

    it("a request's trailers are dropped: the upstream gets the body only, and a pipelined request stays separate", async () => {
      const before = seen.length;
      const bytes = await exchange(port,
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nX-Sum: 42\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n' +
        'GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const text = bytes.toString('latin1');
      assert.equal((text.match(/HTTP\/1\.1 200 /g) ?? []).length, 2, text);
      const got = seen.slice(before);
      assert.deepEqual(got.map((g) => [g.url, g.body]), [['/echo', 'body'], ['/echo', '']]);
      assert.deepEqual(got[0].trailers, {}, 'no trailer section upstream');
      assert.equal(got[0].headers['x-sum'], undefined, 'not merged into the header section either');
      assert.doesNotMatch(String(got[0].headers['x-forwarded-for']), /10\.9\.9\.9/);
      assert.equal(got[0].headers.host, 'x');
    });
  });
}
