// `Expect: 100-continue` on HTTPS listeners (RFC 9110 §10.1.1): the same rule as in cleartext,
// for HTTP/1.1 over TLS and for h2 streams (RFC 9113 §8.1: 100 as an interim HEADERS frame):
// 100 only once a route reads the body; a declared length over `maxBodySize` gets 413 without it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type TestStack } from './helpers/stack.ts';
import { scriptedServer, type Scripted } from './helpers/servers.ts';
import { ensureDevCa, issueDevCertificate } from '../src/edge/dev-ca.ts';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

for (const engine of ['node', 'portico'] as const) {
  describe(`${engine} engine, HTTPS: Expect: 100-continue`, () => {
    let upstream: Scripted;
    let s: TestStack;
    let port: number;
    let ca: Buffer;
    const seen: string[] = [];

    before(async () => {
      upstream = await scriptedServer((req, res) => {
        let body = '';
        req.setEncoding('latin1').on('data', (c: string) => (body += c)).on('end', () => {
          seen.push(`${req.method} ${req.url} ${JSON.stringify(body)}`);
          res.end('upstream');
        });
      });
      const dir = mkdtempSync(join(tmpdir(), 'portico-expect-'));
      ca = readFileSync((await ensureDevCa(dir)).cert);
      const pair = await issueDevCertificate(dir, ['localhost'], 'site');
      s = await startStack({
        listeners: [{ host: '127.0.0.1', port: 0, engine, tls: { certs: [{ cert: pair.cert, key: pair.key }] } }],
        pools: { web: { servers: [{ url: upstream.url }] } },
        routes: [{ upstream: 'web', maxBodySize: 10 }],
      }, dir);
      port = s.stack.addresses()[0].port;
    });
    after(async () => {
      await s.close();
      await upstream.close();
    });

    /** HTTP/1.1 over TLS: sends the head, waits for the first answer, then maybe the body. */
    async function h1(head: string, body: string | null): Promise<{ first: string; all: string }> {
      const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: ['http/1.1'] });
      socket.setEncoding('latin1');
      let text = '';
      let first = '';
      await new Promise<void>((resolve, reject) => {
        socket.on('error', reject);
        socket.on('close', () => resolve());
        socket.on('data', (c: string) => {
          text += c;
          if (first === '' && /\r\n\r\n/.test(text)) {
            first = text;
            if (text.startsWith(CONTINUE) && body !== null) socket.write(body);
          }
          if (/HTTP\/1\.1 [2-5]\d\d [\s\S]*\r\n\r\n[\s\S]*upstream|HTTP\/1\.1 4\d\d /.test(text)) socket.end();
        });
        socket.write(head);
      });
      return { first, all: text };
    }

    it('HTTP/1.1 over TLS: 100 before the body is sent, then the response', async () => {
      const before = seen.length;
      const r = await h1('POST /up HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n', 'body');
      assert.ok(r.first.startsWith(CONTINUE), `100 first, got ${JSON.stringify(r.first)}`);
      assert.match(r.all, /HTTP\/1\.1 200 /);
      assert.deepEqual(seen.slice(before), ['POST /up "body"']);
    });

    it('HTTP/1.1 over TLS: a declared length over maxBodySize gets 413 and never a 100', async () => {
      const before = seen.length;
      const r = await h1('POST /up HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n', null);
      assert.match(r.first, /^HTTP\/1\.1 413 /);
      assert.doesNotMatch(r.all, /100 Continue/);
      assert.equal(seen.length, before);
    });

    it('h2: the 100 arrives as an interim response only for an allowed body; 413 without it otherwise', async () => {
      const client = http2.connect(`https://localhost:${port}`, { ca });
      try {
        const ask = (length: number, body: string | null) => new Promise<{ continued: boolean; status: number }>((resolve, reject) => {
          const stream = client.request({ ':method': 'POST', ':path': '/up', expect: '100-continue', 'content-length': String(length) });
          let continued = false;
          let status = 0;
          stream.on('continue', () => {
            continued = true;
            if (body !== null) stream.end(body);
          });
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.on('error', reject);
          stream.resume();
          stream.on('close', () => resolve({ continued, status }));
        });
        const before = seen.length;
        assert.deepEqual(await ask(4, 'body'), { continued: true, status: 200 });
        assert.deepEqual(seen.slice(before), ['POST /up "body"']);
        const refused = await ask(100, null);
        assert.equal(refused.status, 413);
        assert.equal(refused.continued, false);
        assert.equal(seen.length, before + 1);
      } finally {
        client.close();
      }
    });
  });
}
