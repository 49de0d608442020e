// Request buffering (nginx `proxy_request_buffering`), only where configured and capped, and
// `Expect: 100-continue` answered at the edge (RFC 9110 §10.1.1) rather than forwarded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { scriptedServer } from './helpers/servers.ts';
import { startStack } from './helpers/stack.ts';

const seen: { url: string; headers: Record<string, unknown>; body: string; at: number }[] = [];
const upstream = await scriptedServer((req, res) => {
  const parts: Buffer[] = [];
  const at = Date.now();
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts).toString(), at });
    res.end('ok');
  });
});
const s = await startStack({
  pools: { web: { servers: [{ url: upstream.url }] } },
  routes: [
    { path: '/buffered', upstream: 'web', bufferRequest: { maxSize: 1024 } },
    { path: '/', upstream: 'web' },
  ],
});
after(async () => { await s.close(); await upstream.close(); });

/** Sends `parts` with a pause between them; resolves with the raw response once the server closes. */
function send(parts: string[], gapMs: number): Promise<{ out: string; endedAt: number }> {
  const { port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), '127.0.0.1');
    let out = '';
    let endedAt = 0;
    sock.setEncoding('latin1').on('data', (d) => (out += d)).on('end', () => resolve({ out, endedAt })).on('error', reject);
    let i = 0;
    const next = () => {
      sock.write(parts[i++]);
      if (i < parts.length) setTimeout(next, gapMs);
      else endedAt = Date.now();
    };
    sock.once('connect', next);
  });
}

test('a buffered route forwards only the complete body, re-framed with Content-Length', async () => {
  const head = 'POST /buffered/up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
  const { out, endedAt } = await send([head + '5\r\nhello\r\n', '6\r\n world\r\n', '0\r\n\r\n'], 150);
  assert.match(out, /^HTTP\/1.1 200/);
  const got = seen.find((r) => r.url === '/buffered/up')!;
  assert.equal(got.body, 'hello world');
  assert.equal(got.headers['content-length'], '11');
  assert.equal(got.headers['transfer-encoding'], undefined);
  assert.ok(got.at >= endedAt, 'the upstream saw the request only after the client had sent all of it');
});

test('past the buffer cap: 413, nothing forwarded', async () => {
  const before = seen.length;
  const big = 'x'.repeat(2000);
  const { out } = await send([`POST /buffered/big HTTP/1.1\r\nHost: a\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n${big}`], 0);
  assert.match(out, /^HTTP\/1.1 413/);
  assert.match(out, /BODY_TOO_LARGE/);
  const chunked = await send(['POST /buffered/big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', `7d0\r\n${big}\r\n0\r\n\r\n`], 20);
  assert.match(chunked.out, /^HTTP\/1.1 413/);
  assert.equal(seen.length, before);
});

test('Expect: 100-continue is answered by the edge and not forwarded; streaming routes stay streaming', async () => {
  const { out } = await send(['POST /plain HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', 'data'], 50);
  assert.match(out, /^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 200/);
  const got = seen.find((r) => r.url === '/plain')!;
  assert.equal(got.headers['expect'], undefined);
  assert.equal(got.body, 'data');
});
