// Listener limits, each with the answer it gives: 414, 431, connection caps, slowloris, idle
// keep-alive, and h2 stream limits with a rapid-reset flood while the server stays responsive.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type TestStack } from './helpers/stack.ts';
import { scriptedServer, waitFor } from './helpers/servers.ts';
import { ensureDevCa, issueDevCertificate } from '../src/edge/dev-ca.ts';
import type { ListenerConfig } from '../src/config/types.ts';
import { validateConfig } from '../src/config/validate.ts';
import { DEFAULT_LIMITS } from '../src/edge/limits.ts';

const routes = [{ respond: { body: 'ok' } }];

type Engine = 'node' | 'portico';

async function withLimits(engine: Engine, limits: ListenerConfig['limits'], fn: (port: number, s: TestStack) => Promise<void>): Promise<void> {
  const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, limits, engine }], routes });
  try {
    await fn(s.stack.addresses()[0].port, s);
  } finally {
    await s.close();
  }
}

/** Opens a raw connection (optionally from another loopback address) and collects what comes back. */
async function connect(port: number, localAddress = '127.0.0.1'): Promise<{ socket: net.Socket; received: () => string; closed: Promise<unknown> }> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  let got = '';
  socket.setEncoding('latin1').on('data', (c: string) => (got += c));
  socket.on('error', () => {}); // a reset is an answer here: the close is what the tests wait for
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await new Promise((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  return { socket, received: () => got, closed };
}

async function rawRequest(port: number, head: string, localAddress?: string): Promise<string> {
  const c = await connect(port, localAddress);
  c.socket.write(head);
  await c.closed;
  return c.received();
}

// Every HTTP/1.1 limit on both edge engines (node:http, and Portico's own framing in src/edge/h1).
for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  describe('request head limits', () => {
    it('414 past maxUrlLength, and the request below it is served', () => withLimits(engine, { maxUrlLength: 300 }, async (port) => {
      const long = await rawRequest(port, `GET /${'a'.repeat(400)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(long, /^HTTP\/1\.1 414 /);
      assert.match(long, /x-request-id: /i);
      const fine = await rawRequest(port, `GET /${'a'.repeat(200)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(fine, /^HTTP\/1\.1 200 /);
    }));

    it('431 past maxHeaderCount and past maxHeaderSize', () => withLimits(engine, { maxHeaderCount: 20, maxHeaderSize: 2048 }, async (port) => {
      const many = Array.from({ length: 21 }, (_, i) => `X-H${i}: v\r\n`).join('');
      assert.match(await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\n${many}Connection: close\r\n\r\n`), /^HTTP\/1\.1 431 /);
      const few = Array.from({ length: 10 }, (_, i) => `X-H${i}: v\r\n`).join('');
      assert.match(await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\n${few}Connection: close\r\n\r\n`), /^HTTP\/1\.1 200 /);
      assert.match(await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(3000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
    }));
  });

  describe('connection limits', () => {
    it('maxConnectionsPerIp closes the extra connection from one address, not from another', () => withLimits(engine, { maxConnectionsPerIp: 3 }, async (port) => {
      const held = await Promise.all([1, 2, 3].map(() => connect(port, '127.0.0.2')));
      const extra = await connect(port, '127.0.0.2');
      await extra.closed;
      assert.equal(extra.received(), '', 'closed without an answer');
      assert.match(await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', '127.0.0.3'), /^HTTP\/1\.1 200 /);
      // A freed slot is usable again.
      held[0].socket.destroy();
      await held[0].closed;
      assert.match(await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', '127.0.0.2'), /^HTTP\/1\.1 200 /);
      for (const h of held) h.socket.destroy();
    }));

    it('maxConnections caps the listener overall', () => withLimits(engine, { maxConnections: 2, maxConnectionsPerIp: 0 }, async (port) => {
      const held = await Promise.all([1, 2].map(() => connect(port)));
      const extra = await connect(port);
      await extra.closed;
      assert.equal(extra.received(), '');
      for (const h of held) h.socket.destroy();
    }));

    it('an idle keep-alive connection is closed after keepAliveTimeout', () => withLimits(engine, { keepAliveTimeout: 300 }, async (port) => {
      const c = await connect(port);
      c.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => c.received().includes('\r\n\r\nok'), 'first response');
      const idleSince = Date.now();
      await c.closed;
      const idle = Date.now() - idleSince;
      assert.ok(idle >= 250 && idle < 3_000, `closed after ${idle} ms`);
    }));
  });

  describe('request timeout', () => {
    it('a body still incomplete after requestTimeout gets 408 and the connection is closed', async () => {
      let complete = 0;
      const upstream = await scriptedServer((req, res) => {
        req.on('error', () => {}).resume().on('end', () => {
          complete++;
          res.end('read it all');
        });
      });
      const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine, limits: { headersTimeout: 200, requestTimeout: 400 } }], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ upstream: 'web' }] });
      try {
        const c = await connect(s.stack.addresses()[0].port);
        const t0 = Date.now();
        c.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part of it');
        await c.closed;
        const took = Date.now() - t0;
        assert.match(c.received(), /^HTTP\/1\.1 408 /);
        assert.ok(took >= 350 && took < 3_000, `closed after ${took} ms`);
        assert.equal(complete, 0, 'the upstream never got a complete body');
      } finally {
        await s.close();
        await upstream.close();
      }
    });
  });

  describe('slowloris', () => {
    it('slow heads are bounded in count and time while a normal request is served promptly', () => withLimits(engine, { headersTimeout: 600, requestTimeout: 5_000, maxConnectionsPerIp: 10 }, async (port) => {
      const started = Date.now();
      const slow = await Promise.all(Array.from({ length: 30 }, () => connect(port, '127.0.0.2')));
      // Each sends a head one header line at a time, never finishing it.
      const drip = setInterval(() => {
        for (const c of slow) if (!c.socket.destroyed) c.socket.write(`X-Slow-${Date.now()}: 1\r\n`);
      }, 100);
      for (const c of slow) c.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
      try {
        const t0 = Date.now();
        const normal = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        assert.match(normal, /^HTTP\/1\.1 200 /);
        assert.ok(Date.now() - t0 < 1_000, `normal request took ${Date.now() - t0} ms`);
        await Promise.all(slow.map((c) => c.closed));
        const elapsed = Date.now() - started;
        assert.ok(elapsed < 3_000, `every slow connection gone after ${elapsed} ms`);
        const answered = slow.filter((c) => c.received().startsWith('HTTP/1.1 408'));
        const refused = slow.filter((c) => c.received() === '');
        assert.equal(answered.length, 10, 'the 10 admitted got 408');
        assert.equal(refused.length, 20, 'the other 20 were closed on accept');
      } finally {
        clearInterval(drip);
      }
    }));
  });

  describe('per-route maxBodySize', () => {
    it('413 on Content-Length before reading, and on a chunked body as it crosses the cap', async () => {
      let complete = 0;
      let maxSeen = 0;
      const upstream = await scriptedServer((req, res) => {
        let n = 0;
        req.on('data', (c: Buffer) => {
          n += c.length;
          maxSeen = Math.max(maxSeen, n);
        });
        req.on('end', () => {
          complete++;
          res.end(`got ${n}`);
        });
        req.on('error', () => {});
      });
      const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ path: '/upload', upstream: 'web', maxBodySize: '1KiB' }, { upstream: 'web' }] });
      const { port } = s.stack.addresses()[0];
      try {
        const declared = await rawRequest(port, `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n${'a'.repeat(100)}`);
        assert.match(declared, /^HTTP\/1\.1 413 /);
        assert.match(declared, /connection: close/i);
        assert.equal(complete, 0, 'the upstream was never asked');

        const c = await connect(port);
        c.socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
        for (let i = 0; i < 6 && !c.socket.destroyed; i++) {
          c.socket.write(`200\r\n${'b'.repeat(512)}\r\n`); // 512-byte chunks: the third crosses 1 KiB
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        if (!c.socket.destroyed) c.socket.write('0\r\n\r\n');
        await waitFor(() => c.received().startsWith('HTTP/1.1 ') || c.socket.destroyed, 'an answer');
        await c.closed;
        assert.match(c.received(), /^HTTP\/1\.1 413 /);
        assert.equal(complete, 0, 'no complete oversized body reached the upstream');
        assert.ok(maxSeen <= 1024, `upstream saw ${maxSeen} bytes`);

        const small = await rawRequest(port, 'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n200\r\n' + 'c'.repeat(512) + '\r\n0\r\n\r\n');
        assert.match(small, /^HTTP\/1\.1 200 [\s\S]*got 512$/);
        const otherRoute = await rawRequest(port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nConnection: close\r\n\r\n${'d'.repeat(2000)}`);
        assert.match(otherRoute, /got 2000$/, 'the limit is per route');
      } finally {
        await s.close();
        await upstream.close();
      }
    });
  });
});

describe('HTTP/2 limits', () => {
  it('announces maxConcurrentStreams and stays responsive through a rapid-reset flood', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-limits-'));
    const ca = readFileSync((await ensureDevCa(dir)).cert);
    const pair = await issueDevCertificate(dir, ['localhost'], 'site');
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] }, limits: { maxConcurrentStreams: 16 } }], routes }, dir);
    const { port } = s.stack.addresses()[0];
    const flood = http2.connect(`https://localhost:${port}`, { ca });
    flood.on('error', () => {});
    try {
      await once(flood, 'remoteSettings');
      assert.equal(flood.remoteSettings.maxConcurrentStreams, 16);
      // CVE-2023-44487: open and cancel streams as fast as possible.
      for (let i = 0; i < 2_000 && !flood.destroyed && !flood.closed; i++) {
        const stream = flood.request({ ':path': '/' });
        stream.on('error', () => {});
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }
      const t0 = Date.now();
      const other = http2.connect(`https://localhost:${port}`, { ca });
      const body = await new Promise<string>((resolve, reject) => {
        let data = '';
        other.request({ ':path': '/' }).setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => resolve(data)).on('error', reject);
      });
      other.close();
      assert.equal(body, 'ok');
      assert.ok(Date.now() - t0 < 2_000, `a fresh client was served in ${Date.now() - t0} ms`);
    } finally {
      flood.destroy();
      await s.close();
    }
  });
});

describe('limits and proxyProtocol config', () => {
  const messages = (input: Record<string, unknown>) => {
    const r = validateConfig({ routes, ...input }, '/');
    return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
  };

  it('defaults apply per field, and impossible combinations name the field', () => {
    const r = validateConfig({ listeners: [{ port: 1, limits: { headersTimeout: '2s', maxUrlLength: 4096 } }], routes }, '/');
    assert.ok(r.ok);
    assert.deepEqual(r.config.listeners[0].limits, { ...DEFAULT_LIMITS, headersTimeout: 2000, maxUrlLength: 4096 });
    assert.deepEqual(messages({ listeners: [{ port: 1, limits: { headersTimeout: '2m', requestTimeout: '1m' } }] }), ['listeners[0].limits.headersTimeout: headersTimeout must not exceed requestTimeout']);
    // The PROXY header is read before the TLS handshake (src/edge/proxy-protocol-tls.test.ts).
    assert.deepEqual(messages({ listeners: [{ port: 1, tls: 'dev', proxyProtocol: true }] }), []);
    assert.equal(messages({ routes: [{ respond: {}, maxBodySize: 'lots' }] })[0]?.startsWith('routes[0].maxBodySize'), true);
    const sized = validateConfig({ routes: [{ respond: {}, maxBodySize: '10MiB' }] }, '/');
    assert.ok(sized.ok && sized.config.routes[0].maxBodySize === 10 * 1024 * 1024);
  });
});
