// The HTTPS listener alone (no stack): ALPN, SNI with wildcards, the h2 → contract mapping, and
// certificate hot swap, with node's own https/http2 clients trusting the development CA.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import type { Handler } from '../http/types.ts';
import { CertificateStore } from './certificate-store.ts';
import { issueDevCertificate, ensureDevCa } from './dev-ca.ts';
import { createHttpsListener, type HttpsListener } from './https-listener.ts';
import type { EdgeRuntime } from './request-mapping.ts';
import { trustedPeers } from './trusted-peers.ts';

/** Echoes what the layers see, so each test can assert on the mapping. */
const echo: Handler = async (req, ctx) => {
  let body = '';
  if (req.body !== null) for await (const chunk of req.body) body += String(chunk);
  const seen = { scheme: ctx.scheme, host: ctx.host, httpVersion: req.httpVersion, method: req.method, target: req.target, headers: req.headers, body };
  const payload = JSON.stringify(seen);
  // On h2 a complete body goes out as HEADERS + DATA in one go, a streamed one through the body pump.
  const streamed = req.path.startsWith('/streamed');
  const headers: Record<string, string> = { 'content-type': 'application/json', connection: 'keep-alive' };
  if (req.path.endsWith('/bad-head')) headers['bad name'] = 'x';
  if (req.path.endsWith('/bad-value')) headers['x-split'] = 'a\r\nx-injected: 1';
  if (req.path.endsWith('/short')) headers['content-length'] = '100000';
  if (req.path.endsWith('/long')) headers['content-length'] = '3';
  if (req.path.endsWith('/mixed-case')) headers['Content-Type'] = 'text/x-last';
  return { status: 200, headers, body: streamed ? Readable.from([payload]) : payload };
};
const runtime: EdgeRuntime = { handler: echo, trusted: trustedPeers([]) };

let dir: string;
let ca: Buffer;
let certA: { cert: string; key: string };
let certB: { cert: string; key: string };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-tls-'));
  ca = readFileSync((await ensureDevCa(dir)).cert);
  certA = await issueDevCertificate(dir, ['a.test', 'localhost', '127.0.0.1', '::1'], 'a');
  certB = await issueDevCertificate(dir, ['*.b.test'], 'b');
});

async function listen(host = '127.0.0.1'): Promise<{ listener: HttpsListener; store: CertificateStore; port: number; close(): Promise<void> }> {
  const store = new CertificateStore([certA, certB]);
  store.watch();
  const listener = createHttpsListener(runtime, store);
  listener.server.listen(0, host);
  await once(listener.server, 'listening');
  const port = (listener.server.address() as AddressInfo).port;
  return {
    listener, store, port,
    close: async () => {
      store.close();
      listener.closeAllConnections();
      await new Promise((resolve) => listener.server.close(resolve));
    },
  };
}

function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<{ status: number; headers: http2.IncomingHttpHeaders; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let data = '';
    let head: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (head = h));
    stream.setEncoding('utf8').on('data', (c: string) => (data += c));
    stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, json: JSON.parse(data) as Record<string, unknown> }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

/** The certificate a handshake with this SNI name (or none) gets. */
async function peerCertificate(port: number, servername: string | undefined): Promise<X509Certificate> {
  const socket = tls.connect({ port, host: '127.0.0.1', servername, ca, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  await once(socket, 'secureConnect');
  const cert = socket.getPeerX509Certificate();
  socket.destroy();
  assert.ok(cert !== undefined);
  return cert;
}

describe('HTTPS listener', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    server = await listen();
  });
  after(() => server.close());

  it('negotiates h2 by ALPN and maps the stream onto the contract', async () => {
    const session = http2.connect(`https://a.test:${server.port}`, { ca, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) });
    try {
      const res = await h2Request(session, { ':method': 'POST', ':path': '/echo?x=1', cookie: ['a=1', 'b=2'], 'x-custom': 'yes' }, 'hello h2');
      assert.equal(res.status, 200);
      assert.equal(session.alpnProtocol, 'h2');
      const { json } = res;
      assert.equal(json.httpVersion, '2.0');
      assert.equal(json.scheme, 'https');
      assert.equal(json.host, 'a.test');
      assert.equal(json.target, '/echo?x=1');
      assert.equal(json.body, 'hello h2', 'a body without Content-Length is streamed through');
      const headers = json.headers as Record<string, string>;
      assert.equal(headers.host, `a.test:${server.port}`, ':authority becomes Host');
      assert.equal(headers.cookie, 'a=1; b=2', 'RFC 9113 §8.2.3: split cookie fields joined with "; "');
      assert.equal(headers['x-custom'], 'yes');
      assert.deepEqual(Object.keys(headers).filter((k) => k.startsWith(':')), [], 'no pseudo-header reaches a layer');
      assert.equal(res.headers.connection, undefined, 'connection-specific fields are dropped on h2 (RFC 9113 §8.2.2)');
      assert.ok(typeof res.headers['x-request-id'] === 'string');
    } finally {
      session.close();
    }
  });

  it('a GET over h2 has no body', async () => {
    const session = http2.connect(`https://localhost:${server.port}`, { ca });
    try {
      const res = await h2Request(session, { ':path': '/' });
      assert.equal(res.json.body, '');
      assert.equal(res.json.method, 'GET');
    } finally {
      session.close();
    }
  });

  it('sends x-request-id and server-timing never-indexed on h2, every other field indexable (RFC 7541 §6.2.3)', async () => {
    const session = http2.connect(`https://localhost:${server.port}`, { ca });
    try {
      const ids = new Set<unknown>();
      for (const path of ['/whole', '/streamed']) {
        const res = await h2Request(session, { ':path': path });
        // node's client lists the fields that arrived with the never-indexed flag under this symbol.
        const neverIndexed = (res.headers as Record<symbol, string[] | undefined>)[http2.sensitiveHeaders] ?? [];
        assert.deepEqual([...neverIndexed].sort(), ['server-timing', 'x-request-id'], path);
        assert.equal(res.json.target, path);
        assert.match(String(res.headers['server-timing']), /edge/);
        ids.add(res.headers['x-request-id']);
      }
      assert.equal(ids.size, 2, 'each response has its own id');
    } finally {
      session.close();
    }
  });

  it('folds field names differing only in case into one on h2, the last winning, as node:http does', async () => {
    const session = http2.connect(`https://localhost:${server.port}`, { ca });
    try {
      for (const path of ['/mixed-case', '/streamed/mixed-case']) {
        const res = await h2Request(session, { ':path': path });
        assert.equal(res.status, 200, path);
        assert.equal(res.headers['content-type'], 'text/x-last', path);
      }
    } finally {
      session.close();
    }
  });

  it('answers 502 on h2, sending nothing of the head, when a layer returns an invalid field name or value', async () => {
    const session = http2.connect(`https://localhost:${server.port}`, { ca });
    try {
      for (const path of ['/bad-head', '/streamed/bad-head', '/bad-value', '/streamed/bad-value']) {
        const res = await new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
          const stream = session.request({ ':path': path });
          let head: http2.IncomingHttpHeaders = {};
          let body = '';
          stream.on('response', (h) => (head = h)).setEncoding('utf8').on('data', (c: string) => (body += c));
          stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body })).on('error', reject);
        });
        assert.equal(res.status, 502, path);
        assert.equal(res.headers['content-type'] === 'application/json', false, `${path}: none of the refused head went out`);
        assert.equal(typeof res.headers['x-request-id'], 'string', path);
      }
    } finally {
      session.close();
    }
  });

  it('resets an h2 stream whose streamed body does not match its Content-Length (RFC 9113 §8.1.1)', async () => {
    const session = http2.connect(`https://localhost:${server.port}`, { ca });
    try {
      for (const path of ['/streamed/short', '/streamed/long']) {
        const stream = session.request({ ':path': path });
        stream.on('error', () => {});
        let received = 0;
        stream.on('data', (c: Buffer) => (received += c.length));
        let ended = false;
        stream.on('end', () => (ended = true));
        await new Promise((resolve) => stream.on('close', resolve));
        assert.equal(stream.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR, path);
        assert.equal(ended, false, `${path}: never a clean end`);
        assert.ok(received <= (path.endsWith('long') ? 3 : 100_000), `${path}: ${received} bytes`);
      }
      assert.equal((await h2Request(session, { ':path': '/after' })).status, 200, 'the session goes on');
    } finally {
      session.close();
    }
  });

  it('serves HTTP/1.1 to clients that do not offer h2', async () => {
    const json = await new Promise<Record<string, unknown>>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: server.port, servername: 'localhost', path: '/one', ca, headers: { host: 'localhost' } }, (res) => {
        let data = '';
        res.setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => resolve(JSON.parse(data) as Record<string, unknown>));
      }).on('error', reject);
    });
    assert.equal(json.httpVersion, '1.1');
    assert.equal(json.scheme, 'https');
    assert.equal(json.host, 'localhost');
  });

  for (const [servername, expected, why] of [
    ['a.test', 'a', 'exact SAN'],
    ['A.TEST', 'a', 'SNI compares case-insensitively'],
    ['x.b.test', 'b', 'wildcard SAN'],
    ['deep.x.b.test', 'a', 'a wildcard covers one label only (RFC 6125 §6.4.3): default'],
    ['b.test', 'a', 'a wildcard does not cover its parent: default'],
    ['other.test', 'a', 'unknown name: the first certificate'],
    [undefined, 'a', 'no SNI: the first certificate'],
  ] as const) {
    it(`SNI ${servername ?? '(none)'} gets certificate ${expected}: ${why}`, async () => {
      const cert = await peerCertificate(server.port, servername);
      const want = new X509Certificate(readFileSync(expected === 'a' ? certA.cert : certB.cert));
      assert.equal(cert.serialNumber, want.serialNumber);
    });
  }
});

describe('certificate hot swap', () => {
  it('new handshakes get the new certificate while an open h2 session keeps working', async () => {
    const server = await listen();
    const session = http2.connect(`https://localhost:${server.port}`, { ca });
    try {
      assert.equal((await h2Request(session, { ':path': '/before' })).status, 200);
      const before = await peerCertificate(server.port, 'localhost');
      const reloaded = once(server.store, 'reload');
      await issueDevCertificate(dir, ['a.test', 'localhost', '127.0.0.1', '::1'], 'a', true);
      const [err] = await reloaded as [Error | null];
      assert.equal(err, null);
      const afterSwap = await peerCertificate(server.port, 'localhost');
      assert.notEqual(afterSwap.serialNumber, before.serialNumber, 'SNI handshake sees the new file');
      const noSni = await peerCertificate(server.port, undefined);
      assert.equal(noSni.serialNumber, afterSwap.serialNumber, 'the default context is swapped too');
      assert.equal((await h2Request(session, { ':path': '/after' })).status, 200, 'the open session was not dropped');
    } finally {
      session.close();
      await server.close();
    }
  });

  it('a broken file keeps the last good certificate and reports why', async () => {
    const own = mkdtempSync(join(tmpdir(), 'portico-tls-'));
    await ensureDevCa(own);
    const pair = await issueDevCertificate(own, ['localhost'], 'c');
    const store = new CertificateStore([pair]);
    store.watch();
    try {
      const good = store.defaultCredentials.cert;
      const reloaded = once(store, 'reload');
      writeFileSync(pair.cert, '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
      const [err] = await reloaded as [Error | null];
      assert.ok(err instanceof Error);
      assert.match(err.message, /c\.pem/);
      assert.equal(store.defaultCredentials.cert, good);
    } finally {
      store.close();
    }
  });

  it('rejects a key that does not belong to the certificate, naming the file', () => {
    assert.throws(() => new CertificateStore([{ cert: certA.cert, key: certB.key }]), (err: Error) => err.message.startsWith(certA.cert));
    assert.throws(() => new CertificateStore([{ cert: join(dir, 'missing.pem'), key: certA.key }]), /cannot read TLS certificate .*missing\.pem: ENOENT/);
  });
});

describe('IPv6', () => {
  it('listens and serves h2 on ::1', async (t) => {
    let server;
    try {
      server = await listen('::1');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') return t.skip('no IPv6 loopback here');
      throw err;
    }
    const session = http2.connect(`https://[::1]:${server.port}`, { ca });
    try {
      // node's client sends `::1:port` unbracketed; real clients bracket it (RFC 3986 §3.2.2).
      const res = await h2Request(session, { ':path': '/v6', ':authority': `[::1]:${server.port}` });
      assert.equal(res.status, 200);
      assert.equal(res.json.host, '[::1]', JSON.stringify(res.json.headers));
    } finally {
      session.close();
      await server.close();
    }
  });
});
