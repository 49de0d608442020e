// h2 on node:http2's stream API (src/edge/h2): a client reset aborts the request's layers (the
// proxy's upstream request), HEAD logs no body bytes, a large streamed body keeps backpressure end
// to end, head limits and expectations are answered on the stream, a slow body gets 408, a refused
// upload is stopped with RST_STREAM(NO_ERROR), and a stop lets an in-flight stream finish.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import http2 from 'node:http2';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type TestStack } from './helpers/stack.ts';
import { scriptedServer, waitFor, type Scripted } from './helpers/servers.ts';
import { ensureDevCa, issueDevCertificate } from '../src/edge/dev-ca.ts';

const BIG = 16 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'z');

interface Result {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

function collect(stream: http2.ClientHttp2Stream): Promise<Result> {
  return new Promise((resolve, reject) => {
    let headers: http2.IncomingHttpHeaders = {};
    let body = '';
    stream.on('response', (h) => (headers = h));
    stream.setEncoding('utf8').on('data', (c: string) => (body += c));
    stream.on('error', reject);
    stream.on('close', () => resolve({ status: Number(headers[':status'] ?? 0), headers, body }));
  });
}

describe('h2 on the stream API', () => {
  let upstream: Scripted;
  let s: TestStack;
  let ca: Buffer;
  let port: number;
  let log: string;
  /** Upstream requests held open until released, and whether each was aborted by the edge. */
  const held: { res: http.ServerResponse; aborted: boolean }[] = [];
  const big: { written: number; blocked: boolean } = { written: 0, blocked: false };

  before(async () => {
    upstream = await scriptedServer((req, res) => {
      if (req.url === '/slow') {
        const entry = { res, aborted: false };
        res.on('close', () => (entry.aborted = !res.writableFinished));
        held.push(entry);
        return;
      }
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const pump = (): void => {
          while (big.written < BIG) {
            big.written += CHUNK.length;
            if (!res.write(CHUNK)) {
              big.blocked = true;
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length)).on('end', () => res.end(`got ${n}`));
    });
    const dir = mkdtempSync(join(tmpdir(), 'portico-h2-stream-'));
    ca = readFileSync((await ensureDevCa(dir)).cert);
    const pair = await issueDevCertificate(dir, ['localhost'], 'site');
    log = join(dir, 'access.log');
    s = await startStack({
      listeners: [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] }, limits: { maxUrlLength: 256, maxHeaderCount: 20, headersTimeout: '200ms', requestTimeout: '400ms' } }],
      pools: { web: { servers: [{ url: upstream.url }] } },
      routes: [
        { path: '/hello', respond: { body: 'twelve bytes' } },
        { path: '/capped', upstream: 'web', maxBodySize: 1000 },
        { upstream: 'web' },
      ],
      accessLog: { path: log, format: '$request_method $uri $status $body_bytes_sent' },
    }, dir, { accessLog: true });
    port = s.stack.addresses()[0].port;
  });
  after(async () => {
    for (const h of held) h.res.destroy();
    await s.close();
    await upstream.close();
  });

  const connect = (): http2.ClientHttp2Session => http2.connect(`https://localhost:${port}`, { ca });
  const logLines = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);

  it('a client reset aborts the request: the proxy gives up its upstream request', async () => {
    const session = connect();
    try {
      const before = held.length;
      const stream = session.request({ ':path': '/slow' });
      stream.on('error', () => {});
      await waitFor(() => held.length > before, 'the upstream got the request');
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await waitFor(() => held[before].aborted, 'the upstream request aborted after the client reset');
      // The session is unharmed: the next stream is served.
      assert.equal((await collect(session.request({ ':path': '/hello' }))).body, 'twelve bytes');
    } finally {
      session.close();
    }
  });

  it('HEAD logs 0 body bytes, GET the body length', async () => {
    const session = connect();
    try {
      const get = await collect(session.request({ ':path': '/hello' }));
      const head = await collect(session.request({ ':path': '/hello', ':method': 'HEAD' }));
      assert.equal(get.body, 'twelve bytes');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.equal(head.headers['content-length'], '12', 'HEAD keeps the length a GET would have (RFC 9110 §8.6)');
      const lines = await waitFor(() => (logLines().some((l) => l.startsWith('HEAD /hello')) ? logLines() : null), 'the HEAD line');
      assert.ok(lines.includes('GET /hello 200 12'), lines.join('\n'));
      assert.ok(lines.includes('HEAD /hello 200 0'), lines.join('\n'));
    } finally {
      session.close();
    }
  });

  it('a 16 MiB streamed body keeps backpressure: the upstream waits while the client does not read', async () => {
    const session = connect();
    try {
      const stream = session.request({ ':path': '/big' });
      const hash = createHash('sha256');
      let received = 0;
      stream.on('data', (c: Buffer) => {
        received += c.length;
        hash.update(c);
      });
      stream.pause();
      await waitFor(() => big.blocked, 'the upstream blocked on a full socket');
      // Stable for a while with the client paused: nothing reads ahead without bound.
      const at = big.written;
      await waitFor(async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return big.written === at;
      }, 'the upstream stays blocked');
      assert.ok(big.written < BIG, `the upstream was held back at ${big.written} of ${BIG} bytes`);
      const ended = new Promise((resolve) => stream.on('end', resolve));
      stream.resume();
      await ended;
      assert.equal(received, BIG);
      assert.equal(hash.digest('hex'), createHash('sha256').update(Buffer.alloc(BIG, 'z')).digest('hex'));
    } finally {
      session.close();
    }
  });

  it('answers 414 and 431 on the stream, and 417 to an unknown expectation, before any layer', async () => {
    const session = connect();
    try {
      assert.equal((await collect(session.request({ ':path': '/' + 'a'.repeat(400) }))).status, 414);
      const many: http2.OutgoingHttpHeaders = { ':path': '/hello' };
      for (let i = 0; i < 20; i++) many[`x-f${i}`] = 'v';
      assert.equal((await collect(session.request(many))).status, 431);
      const odd = await collect(session.request({ ':path': '/hello', expect: 'something-else' }));
      assert.equal(odd.status, 417);
      assert.match(odd.body, /EXPECTATION_FAILED|unsupported expectation/);
      assert.equal((await collect(session.request({ ':path': '/hello' }))).status, 200, 'the session goes on');
    } finally {
      session.close();
    }
  });

  it('a body that stops arriving gets 408 after requestTimeout', async () => {
    const session = connect();
    try {
      const stream = session.request({ ':path': '/upload', ':method': 'POST' });
      stream.write('part of a body'); // and never the rest
      const t0 = Date.now();
      const r = await collect(stream);
      assert.equal(r.status, 408);
      assert.ok(Date.now() - t0 < 5_000);
    } finally {
      session.close();
    }
  });

  it('a body crossing maxBodySize gets 413 and the stream is closed though the client never ended its upload', async () => {
    const session = connect();
    try {
      const stream = session.request({ ':path': '/capped', ':method': 'POST' });
      stream.write(Buffer.alloc(600, 'a'));
      setImmediate(() => stream.write(Buffer.alloc(600, 'b'))); // crosses 1000, never ends
      const r = await collect(stream);
      assert.equal(r.status, 413);
      assert.equal(stream.rstCode, http2.constants.NGHTTP2_NO_ERROR, 'RST_STREAM(NO_ERROR): stop sending (RFC 9113 §8.1)');
    } finally {
      session.close();
    }
  });
});

describe('h2 client identity', () => {
  it('a trusted peer\'s X-Forwarded-For and X-Request-Id are believed, an untrusted one\'s are not', async () => {
    const upstream = await scriptedServer((req, res) => res.end(JSON.stringify({ realIp: req.headers['x-real-ip'], id: req.headers['x-request-id'] })));
    const dir = mkdtempSync(join(tmpdir(), 'portico-h2-identity-'));
    const ca = readFileSync((await ensureDevCa(dir)).cert);
    const pair = await issueDevCertificate(dir, ['localhost'], 'site');
    const listeners = [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] } }];
    const config = { listeners, pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ upstream: 'web' }] };
    const trusting = await startStack({ ...config, trustedProxies: ['127.0.0.1'] }, dir);
    const wary = await startStack({ ...config, trustedProxies: [] }, dir);
    try {
      const ask = async (s: TestStack) => {
        const session = http2.connect(`https://localhost:${s.stack.addresses()[0].port}`, { ca });
        try {
          const r = await collect(session.request({ ':path': '/who', 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'from-the-balancer' }));
          return { ...(JSON.parse(r.body) as { realIp: string; id: string }), echoed: r.headers['x-request-id'] };
        } finally {
          session.close();
        }
      };
      assert.deepEqual(await ask(trusting), { realIp: '203.0.113.7', id: 'from-the-balancer', echoed: 'from-the-balancer' });
      const untrusted = await ask(wary);
      assert.equal(untrusted.realIp, '127.0.0.1');
      assert.notEqual(untrusted.id, 'from-the-balancer');
      assert.equal(untrusted.echoed, untrusted.id);
    } finally {
      await trusting.close();
      await wary.close();
      await upstream.close();
    }
  });
});

describe('h2 graceful stop', () => {
  it('GOAWAY on stop: a stream in flight finishes, the session then closes', async () => {
    let release: (() => void) | null = null;
    const upstream = await scriptedServer((_req, res) => {
      release = () => res.end('finished late');
    });
    const dir = mkdtempSync(join(tmpdir(), 'portico-h2-stop-'));
    const ca = readFileSync((await ensureDevCa(dir)).cert);
    const pair = await issueDevCertificate(dir, ['localhost'], 'site');
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] } }], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ upstream: 'web' }], shutdownTimeout: 10_000 }, dir);
    const session = http2.connect(`https://localhost:${s.stack.addresses()[0].port}`, { ca });
    try {
      const result = collect(session.request({ ':path': '/' }));
      await waitFor(() => release !== null, 'the upstream got the request');
      const goaway = new Promise((resolve) => session.once('goaway', resolve));
      const stopped = s.stack.stop(10_000);
      await goaway;
      release!();
      const r = await result;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'finished late');
      await stopped;
    } finally {
      session.destroy();
      await upstream.close();
    }
  });
});
