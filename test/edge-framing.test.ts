// Framing safety over raw sockets: each ambiguous request is refused with 400 and the connection
// closed, and the upstream sees nothing of it (no smuggled second request either) — on both edge
// engines (node:http's llhttp, and Portico's own parser in src/edge/h1).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startStack, type TestStack } from './helpers/stack.ts';
import { scriptedServer, type Scripted } from './helpers/servers.ts';

for (const engine of ['node', 'portico'] as const) {
  let upstream: Scripted;
  let s: TestStack;
  let port: number;
  const seen: string[] = [];

  before(async () => {
    upstream = await scriptedServer((req, res) => {
      let body = '';
      req.setEncoding('latin1').on('data', (c: string) => (body += c)).on('end', () => {
        seen.push(`${req.method} ${req.url} ${JSON.stringify(body)}`);
        res.end('upstream');
      });
    });
    s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ upstream: 'web' }] });
    port = s.stack.addresses()[0].port;
  });
  after(async () => {
    await s.close();
    await upstream.close();
  });

  /** Writes without half-closing (node aborts in-flight requests on a client FIN); waits for the close. */
  function exchange(raw: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
      let got = '';
      socket.setEncoding('latin1').on('data', (c: string) => (got += c));
      socket.on('error', () => {});
      socket.on('close', () => resolve(got));
    });
  }

  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';

  describe(`${engine} engine: ambiguous framing is refused (RFC 9112 §6.3, §5.2, §2.2)`, () => {
    const cases: [string, string][] = [
      ['Content-Length and Transfer-Encoding together', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`],
      ['two different Content-Length values', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nbody${smuggled}`],
      ['a non-numeric Content-Length', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4x\r\n\r\nbody`],
      ['a negative Content-Length', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`],
      ['an unknown transfer coding last', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n${smuggled}`],
      ['Transfer-Encoding with a space before the colon', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggled}`],
      ['bare LF line endings', `POST /a HTTP/1.1\nHost: x\nContent-Length: 4\n\nbody${smuggled}`],
      ['obs-fold continuation line', `GET /a HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n`],
      ['a control character in a header value', `GET /a HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n`],
      ['an invalid character in a header name', `GET /a HTTP/1.1\r\nHost: x\r\nX(Bad): 1\r\n\r\n`],
      ['a malformed chunk size', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbody\r\n0\r\n\r\n`],
    ];
    for (const [name, raw] of cases) {
      it(`${name}: 400, connection closed, the upstream sees nothing`, async () => {
        const before = seen.length;
        const got = await exchange(raw);
        assert.match(got, /^HTTP\/1\.1 400 /, got);
        const id = /\r\nX-Request-Id: ([\w-]+)\r\n/i.exec(got)?.[1];
        // node's parser errors get the edge's short answer; the portico engine's go through the stack's error format.
        const named = engine === 'node' ? got.endsWith(`(request id ${id})\n`) : got.endsWith(`request id: ${id}\n`) && /\ncode: BAD_(FRAMING|CHUNKED_BODY)\n/.test(got);
        assert.ok(id !== undefined && named, 'the answer names the reason and the request id');
        assert.equal((got.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'one answer only: nothing after the bad request was read');
        assert.deepEqual(seen.slice(before), [], 'the upstream must not see any part of it');
      });
    }

    // llhttp accepts these; both engines refuse them before any layer (src/edge/request-faults.ts on
    // the node engine, src/edge/h1/request-head.ts on the portico engine), in the stack's error format.
    const refusedByPortico: [string, string][] = [
      ['two Host lines (RFC 9112 §3.2)', `GET /a HTTP/1.1\r\nHost: x\r\nHost: evil.example\r\n\r\n${smuggled}`],
      ['two identical Host lines', `GET /a HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n${smuggled}`],
      ['Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1)', `POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n`],
      // keep-alive: llhttp would read on past the chunked body and hand node the smuggled request.
      ['Transfer-Encoding in a keep-alive HTTP/1.0 request, a request behind it', `POST /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n${smuggled}`],
    ];
    for (const [name, raw] of refusedByPortico) {
      it(`${name}: 400 BAD_FRAMING, connection closed, the upstream sees nothing, not even the request behind it`, async () => {
        const before = seen.length;
        const got = await exchange(raw);
        assert.match(got, /^HTTP\/1\.1 400 /, got);
        const id = /\r\nX-Request-Id: ([\w-]+)\r\n/i.exec(got)?.[1];
        assert.ok(id !== undefined && got.endsWith(`request id: ${id}\n`) && /\ncode: BAD_FRAMING\n/.test(got), got);
        assert.equal((got.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'one answer only');
        // A request that ran behind it would have started upstream before this one: wait for it to land.
        assert.match(await exchange('GET /sentinel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
        assert.deepEqual(seen.slice(before), ['GET /sentinel ""'], 'the upstream must not see any part of it');
      });
    }

    it('no Host on HTTP/1.1 (RFC 9112 §3.2): 400 from the parser, the upstream sees nothing', async () => {
      const before = seen.length;
      assert.match(await exchange('GET /a HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 400 /);
      assert.deepEqual(seen.slice(before), []);
    });

    it('a well-framed chunked request is re-serialised upstream, and a pipelined second one stays separate', async () => {
      const before = seen.length;
      const got = await exchange(`POST /ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.equal((got.match(/HTTP\/1\.1 200 /g) ?? []).length, 2);
      assert.deepEqual(seen.slice(before), ['POST /ok "body"', 'GET /next ""']);
    });
  });
}
