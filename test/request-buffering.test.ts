// Request buffering (nginx `proxy_request_buffering`), only where configured and capped, and
// `Expect: 100-continue` answered at the edge (RFC 9110 §10.1.1) rather than forwarded — on both
// edge engines.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { scriptedServer, type Scripted } from './helpers/servers.ts';
import { startStack, type TestStack } from './helpers/stack.ts';

const seen: { url: string; headers: Record<string, unknown>; body: string; at: number }[] = [];
let upstream: Scripted;
before(async () => {
  upstream = await scriptedServer((req, res) => {
    const parts: Buffer[] = [];
    const at = Date.now();
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts).toString(), at });
      res.end('ok');
    });
  });
});
after(() => upstream.close());

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  let s: TestStack;
  before(async () => {
    s = await startStack({
      listeners: [{ host: '127.0.0.1', port: 0, engine }],
      pools: { web: { servers: [{ url: upstream.url }] } },
      routes: [
        { path: '/buffered', upstream: 'web', bufferRequest: { maxSize: 1024 } },
        { path: '/capped', upstream: 'web', maxBodySize: 1024 },
        { path: '/', upstream: 'web' },
      ],
    });
  });
  after(() => s.close());

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
    const got = seen.findLast((r) => r.url === '/buffered/up')!;
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
    const got = seen.findLast((r) => r.url === '/plain')!;
    assert.equal(got.headers['expect'], undefined);
    assert.equal(got.body, 'data');
  });

  test('Expect: 100-continue within maxBodySize gets 100 and is forwarded; past it 413 without a 100, the body never asked for', async () => {
    const head = (n: number) => `POST /capped/x HTTP/1.1\r\nHost: a\r\nContent-Length: ${n}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
    // The client waits for 100 or a final status before sending (RFC 9110 §10.1.1): here it never sends.
    const before = seen.length;
    const refused = await send([head(2000)], 0);
    assert.match(refused.out, /^HTTP\/1.1 413 /);
    assert.doesNotMatch(refused.out, /100 Continue/);
    assert.equal(seen.length, before, 'nothing forwarded');
    const { out } = await send([head(4), 'data'], 50);
    assert.match(out, /^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 200/);
    assert.equal(seen.findLast((r) => r.url === '/capped/x')?.body, 'data');
  });
});
