// TLS and h2 to upstream servers (`https://` servers, the pool's `tls` and `http2`): real https and
// h2 origins on loopback with certificates from a throwaway test CA (test/helpers/test-pki.ts).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { makeTestPki, type TestPki } from './helpers/test-pki.ts';
import { startStack, type TestStack } from './helpers/stack.ts';
import { startTestDns } from './helpers/dns-server.ts';
import { waitFor } from './helpers/servers.ts';
import type { PoolConfig } from '../src/config/types.ts';

let pki: TestPki;
before(async () => { pki = await makeTestPki(); });
after(() => pki.remove());

interface Seen { servername: string | false; httpVersion: string; host: string | undefined; clientCn: string | null; peerPort: number }

/** An https origin answering 200 "secure <version>" and recording what each request looked like. */
async function httpsOrigin(options: https.ServerOptions = {}): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = https.createServer({ cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey), ...options }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    const cn = peer?.subject?.CN;
    seen.push({ servername: socket.servername ?? false, httpVersion: req.httpVersion, host: req.headers.host, clientCn: typeof cn === 'string' ? cn : null, peerPort: socket.remotePort ?? 0 });
    res.end(`secure ${req.httpVersion}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function stackFor(url: string, pool: Partial<PoolConfig>): Promise<TestStack> {
  return startStack({ pools: { o: { servers: [{ url }], retries: 0, ...pool } }, routes: [{ path: '/', upstream: 'o' }] });
}

/** A request with an explicit Host (fetch would not send one of its own choosing). */
function get(s: TestStack, path = '/', method = 'GET', body: string | null = null, host = 'app.example'): Promise<{ status: number; body: string; error: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.request(s.url + path, { method, headers: { host }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, error: (res.headers['x-portico-error'] as string | undefined) ?? null }));
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

describe('https:// upstream servers', () => {
  test('with the test CA as tls.ca the request is proxied over TLS; an IP url sends no SNI, tls.servername sets it', async () => {
    const origin = await httpsOrigin();
    const byIp = await stackFor(`https://127.0.0.1:${origin.port}`, { tls: { ca: pki.ca } });
    const named = await stackFor(`https://127.0.0.1:${origin.port}`, { tls: { ca: pki.ca, servername: 'origin.test' } });
    try {
      assert.deepEqual(await get(byIp), { status: 200, body: 'secure 1.1', error: null });
      assert.deepEqual(await get(named), { status: 200, body: 'secure 1.1', error: null });
      // RFC 6066 §3: no IP literal in SNI; the Host header stays the client's (hostHeader passthrough).
      assert.deepEqual(origin.seen.map((s) => [s.servername, s.host]), [[false, 'app.example'], ['origin.test', 'app.example']]);
    } finally {
      await byIp.close();
      await named.close();
      await origin.close();
    }
  });

  test('the SNI stays the pool\'s whatever Host the clients send: one kept-alive connection serves them all', async () => {
    const origin = await httpsOrigin();
    const s = await stackFor(`https://127.0.0.1:${origin.port}`, { tls: { ca: pki.ca, servername: 'origin.test' }, connections: 1 });
    try {
      for (const host of ['a.example', 'b.example', 'c.example']) assert.equal((await get(s, '/', 'GET', null, host)).status, 200);
      assert.deepEqual(origin.seen.map((x) => [x.servername, x.host]), [['origin.test', 'a.example'], ['origin.test', 'b.example'], ['origin.test', 'c.example']]);
      assert.equal(new Set(origin.seen.map((x) => x.peerPort)).size, 1, 'no reconnect when the Host changes');
    } finally {
      await s.close();
      await origin.close();
    }
  });

  test('without tls.ca (unknown issuer) the answer is 502 UPSTREAM_TLS and the log names the reason', async () => {
    const origin = await httpsOrigin();
    const s = await stackFor(`https://127.0.0.1:${origin.port}`, {});
    try {
      const r = await get(s);
      assert.equal(r.status, 502);
      assert.equal(r.error, 'UPSTREAM_TLS');
      assert.match(r.body, /TLS handshake with upstream 127\.0\.0\.1:\d+ failed: .*unknown issuer.*\[UNABLE_TO_VERIFY_LEAF_SIGNATURE\]/);
      assert.ok(s.logs.some((l) => /UPSTREAM_TLS/.test(l) && /unknown issuer/.test(l)), s.logs.join('\n'));
      assert.equal(origin.seen.length, 0, 'nothing reached the origin');
    } finally {
      await s.close();
      await origin.close();
    }
  });

  test('a CA that did not sign the certificate is refused too', async () => {
    const origin = await httpsOrigin();
    const s = await stackFor(`https://127.0.0.1:${origin.port}`, { tls: { ca: pki.otherCa } });
    try {
      const r = await get(s);
      assert.equal(r.status, 502);
      assert.equal(r.error, 'UPSTREAM_TLS');
    } finally {
      await s.close();
      await origin.close();
    }
  });

  test('a servername the certificate does not carry is refused (502, altname reason)', async () => {
    const origin = await httpsOrigin();
    const s = await stackFor(`https://127.0.0.1:${origin.port}`, { tls: { ca: pki.ca, servername: 'wrong.test' } });
    try {
      const r = await get(s);
      assert.equal(r.status, 502);
      assert.equal(r.error, 'UPSTREAM_TLS');
      assert.match(r.body, /does not name the host.*\[ERR_TLS_CERT_ALTNAME_INVALID\]/);
      assert.ok(s.logs.some((l) => /ERR_TLS_CERT_ALTNAME_INVALID/.test(l)), s.logs.join('\n'));
    } finally {
      await s.close();
      await origin.close();
    }
  });

  test('rejectUnauthorized: false proxies to an untrusted certificate', async () => {
    const origin = await httpsOrigin();
    const s = await stackFor(`https://127.0.0.1:${origin.port}`, { tls: { rejectUnauthorized: false } });
    try {
      assert.deepEqual(await get(s), { status: 200, body: 'secure 1.1', error: null });
    } finally {
      await s.close();
      await origin.close();
    }
  });

  test('an http:// url to a TLS port fails with 502, and an https:// url to a cleartext port with a TLS reason', async () => {
    const origin = await httpsOrigin();
    const plain = await startStack({ pools: { o: { servers: [{ url: `http://127.0.0.1:${origin.port}` }], retries: 0 } }, routes: [{ path: '/', upstream: 'o' }] });
    const cleartext = await import('node:http').then((m) => m.createServer((_q, r) => r.end('plain')));
    await new Promise<void>((resolve) => cleartext.listen(0, '127.0.0.1', resolve));
    const wrong = await stackFor(`https://127.0.0.1:${(cleartext.address() as AddressInfo).port}`, { tls: { ca: pki.ca } });
    try {
      assert.equal((await get(plain)).status, 502);
      const r = await get(wrong);
      assert.equal(r.status, 502);
      assert.equal(r.error, 'UPSTREAM_TLS');
      assert.match(r.body, /does not speak TLS/);
    } finally {
      await plain.close();
      await wrong.close();
      cleartext.closeAllConnections();
      await new Promise<void>((resolve) => cleartext.close(() => resolve()));
      await origin.close();
    }
  });
});

describe('retries after a failed handshake', () => {
  test('a server whose handshake fails is passed over for the next one (no request byte was sent)', async () => {
    const good = await httpsOrigin();
    const cleartext = http.createServer((_q, r) => r.end('plain'));
    await new Promise<void>((resolve) => cleartext.listen(0, '127.0.0.1', resolve));
    const s = await startStack({
      pools: { o: { servers: [{ url: `https://127.0.0.1:${(cleartext.address() as AddressInfo).port}` }, { url: `https://127.0.0.1:${good.port}` }], policy: 'round-robin', retries: 1, retryBudget: 1, tls: { ca: pki.ca } } },
      routes: [{ path: '/', upstream: 'o' }],
    });
    try {
      // Round robin sends every other request to the cleartext port first.
      const results = [await get(s, '/1'), await get(s, '/2'), await get(s, '/3'), await get(s, '/4')];
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
      assert.equal(good.seen.length, 4);
    } finally {
      await s.close();
      cleartext.closeAllConnections();
      await new Promise<void>((resolve) => cleartext.close(() => resolve()));
      await good.close();
    }
  });
});

describe('DNS discovery of https:// servers', () => {
  test('the name keeps serving as SNI and for the certificate check while connecting to its addresses', async () => {
    const origin = await httpsOrigin();
    const dns = await startTestDns();
    dns.records.set('origin.test', ['127.0.0.1']);
    const s = await stackFor(`https://origin.test:${origin.port}`, { tls: { ca: pki.ca }, discovery: { type: 'dns', resolver: dns.address, ttl: '1s' } });
    try {
      await waitFor(async () => (await get(s)).status === 200, 'the discovered https server answers');
      assert.deepEqual(origin.seen.map((x) => x.servername), ['origin.test']);
      const pool = s.stack.status().pools as Record<string, { servers: { address: string }[] }>;
      assert.deepEqual(pool.o.servers.map((x) => x.address), [`127.0.0.1:${origin.port}`]);
    } finally {
      await s.close();
      await dns.close();
      await origin.close();
    }
  });
});

describe('mutual TLS to upstreams', () => {
  test('an origin that requires a client certificate gets ours (tls.cert/key), and refuses the proxy without one', async () => {
    const origin = await httpsOrigin({ requestCert: true, rejectUnauthorized: true, ca: pki.read(pki.ca) });
    const withCert = await stackFor(`https://127.0.0.1:${origin.port}`, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
    const without = await stackFor(`https://127.0.0.1:${origin.port}`, { tls: { ca: pki.ca } });
    try {
      assert.deepEqual(await get(withCert), { status: 200, body: 'secure 1.1', error: null });
      assert.equal(origin.seen[0].clientCn, 'portico-proxy');
      // TLS 1.3 (RFC 8446 §4.4.2.4): the server refuses after our side of the handshake is done,
      // so all the proxy sees is the connection closing; the answer says what that can mean.
      const r = await get(without);
      assert.equal(r.status, 502);
      assert.equal(r.error, 'UPSTREAM_RESET');
      assert.match(r.body, /missing or untrusted client certificate/);
      assert.equal(origin.seen.length, 1);
    } finally {
      await withCert.close();
      await without.close();
      await origin.close();
    }
  });
});

describe('h2 to upstreams (http2: true)', () => {
  test('an h2-capable origin is spoken to in HTTP/2 (ALPN), with the client Host as :authority; without http2, HTTP/1.1', async () => {
    const seen: { version: string; authority: string | undefined; path: string | undefined }[] = [];
    const server = http2.createSecureServer({ cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey), allowHTTP1: true }, (req, res) => {
      seen.push({ version: req.httpVersion, authority: req.headers[':authority'] as string | undefined ?? req.headers.host, path: req.url });
      res.setHeader('content-type', 'text/plain');
      res.end(`h${req.httpVersion}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const h2 = await stackFor(url, { tls: { ca: pki.ca }, http2: true });
    const h1 = await stackFor(url, { tls: { ca: pki.ca } });
    try {
      const first = await get(h2, '/a?x=1');
      assert.deepEqual(first, { status: 200, body: 'h2.0', error: null });
      // A body both ways over the h2 stream.
      assert.deepEqual(await get(h2, '/b', 'POST', 'hello'), { status: 200, body: 'h2.0', error: null });
      assert.deepEqual(await get(h1), { status: 200, body: 'h1.1', error: null });
      assert.deepEqual(seen, [
        { version: '2.0', authority: 'app.example', path: '/a?x=1' },
        { version: '2.0', authority: 'app.example', path: '/b' },
        { version: '1.1', authority: 'app.example', path: '/' },
      ]);
    } finally {
      await h2.close();
      await h1.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('http2: true against an origin that only speaks HTTP/1.1 falls back to HTTP/1.1', async () => {
    const origin = await httpsOrigin();
    const s = await stackFor(`https://127.0.0.1:${origin.port}`, { tls: { ca: pki.ca }, http2: true });
    try {
      assert.deepEqual(await get(s), { status: 200, body: 'secure 1.1', error: null });
    } finally {
      await s.close();
      await origin.close();
    }
  });
});
