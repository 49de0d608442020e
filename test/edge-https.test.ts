// HTTPS through the whole stack: `listeners[].tls` from files and `tls: 'dev'`, checked with curl
// (when installed) and node's clients, plus graceful stop with idle h1 and h2 connections open.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startStack } from './helpers/stack.ts';
import { scriptedServer } from './helpers/servers.ts';
import { ensureDevCa, issueDevCertificate } from '../src/edge/dev-ca.ts';
import { validateConfig } from '../src/config/validate.ts';

const run = promisify(execFile);
const hasCurl = await run('curl', ['--version']).then((r) => r.stdout.includes('HTTP2') || r.stdout.includes('nghttp2'), () => false);

async function curl(args: string[]): Promise<{ status: string; body: string }> {
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_version} %{http_code}', ...args]);
  const cut = stdout.lastIndexOf('\n');
  return { body: stdout.slice(0, cut), status: stdout.slice(cut + 1) };
}

const routes = [{ respond: { body: 'secure hello' } }];

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  describe('HTTPS listeners in the stack', () => {
    it('serves tls.certs files over h2 and HTTP/1.1, trusted by curl --cacert', { skip: !hasCurl && 'curl with HTTP/2 not installed' }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'portico-https-'));
      const ca = await ensureDevCa(dir);
      const pair = await issueDevCertificate(dir, ['localhost', '127.0.0.1'], 'site');
      const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] }, engine }], routes }, dir);
      try {
        const { port } = s.stack.addresses()[0];
        const url = `https://localhost:${port}/`;
        const resolve = `localhost:${port}:127.0.0.1`;
        assert.deepEqual(await curl(['--cacert', ca.cert, '--resolve', resolve, '--http2', url]), { status: '2 200', body: 'secure hello' });
        assert.deepEqual(await curl(['--cacert', ca.cert, '--resolve', resolve, '--http1.1', url]), { status: '1.1 200', body: 'secure hello' });
        // Without the CA the chain does not verify: the certificate really comes from the dev CA.
        await assert.rejects(curl(['--resolve', resolve, url]), /SSL certificate|certificate/);
      } finally {
        await s.close();
      }
    });

    it("tls: 'dev' issues a certificate for localhost and the routes' hosts from the runtime dir's CA", { skip: !hasCurl && 'curl with HTTP/2 not installed' }, async () => {
      const s = await startStack({
        listeners: [{ host: '127.0.0.1', port: 0, tls: 'dev', engine }],
        routes: [{ host: 'shop.test', respond: { body: 'shop' } }, { respond: { body: 'any' } }],
      });
      try {
        const { port } = s.stack.addresses()[0];
        const ca = join(s.stack.config.runtimeDir, 'dev-ca', 'ca.pem');
        const shop = await curl(['--cacert', ca, '--resolve', `shop.test:${port}:127.0.0.1`, `https://shop.test:${port}/`]);
        assert.deepEqual(shop, { status: '2 200', body: 'shop' });
        const local = await curl(['--cacert', ca, `https://127.0.0.1:${port}/`]);
        assert.deepEqual(local, { status: '2 200', body: 'any' });
      } finally {
        await s.close();
      }
    });

    it('stops promptly with idle h2 sessions and idle HTTP/1.1 keep-alive connections open', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'portico-https-'));
      const ca = readFileSync((await ensureDevCa(dir)).cert);
      const pair = await issueDevCertificate(dir, ['localhost'], 'site');
      const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] }, engine }], routes, shutdownTimeout: 30_000 }, dir);
      const { port } = s.stack.addresses()[0];
      const session = http2.connect(`https://localhost:${port}`, { ca });
      const h2Body = await new Promise<string>((resolve, reject) => {
        let data = '';
        session.request({ ':path': '/' }).setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => resolve(data)).on('error', reject);
      });
      assert.equal(h2Body, 'secure hello');
      const agent = new https.Agent({ keepAlive: true, ca });
      const h1Body = await new Promise<string>((resolve, reject) => {
        https.get({ host: 'localhost', port, agent }, (res) => {
          let data = '';
          res.setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => resolve(data));
        }).on('error', reject);
      });
      assert.equal(h1Body, 'secure hello');
      const sessionClosed = new Promise((resolve) => session.once('close', resolve));
      const started = Date.now();
      await s.stack.stop(30_000);
      assert.ok(Date.now() - started < 5_000, `stop took ${Date.now() - started} ms with idle connections`);
      await sessionClosed;
      agent.destroy();
    });
  });
});

describe('tls config', () => {
  it('names a missing certificate file by its field path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-https-'));
    const result = validateConfig({ listeners: [{ port: 8443, tls: { certs: [{ cert: 'nope.pem', key: 'nope-key.pem' }] } }], routes }, dir);
    assert.equal(result.ok, false);
    const issues = result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
    assert.deepEqual(issues, [
      `listeners[0].tls.certs[0].cert: file not found: ${join(dir, 'nope.pem')}`,
      `listeners[0].tls.certs[0].key: file not found: ${join(dir, 'nope-key.pem')}`,
    ]);
  });

  it('rejects an empty certificate list and unknown tls values', () => {
    const empty = validateConfig({ listeners: [{ port: 8443, tls: { certs: [] } }], routes }, '/');
    assert.equal(empty.ok, false);
    assert.ok(!empty.ok && empty.issues.some((i) => i.path.startsWith('listeners[0].tls')), JSON.stringify(empty));
    const bad = validateConfig({ listeners: [{ port: 8443, tls: 'yes' }], routes }, '/');
    assert.ok(!bad.ok && bad.issues.some((i) => i.path.startsWith('listeners[0].tls')), JSON.stringify(bad));
  });

  it('resolves cert paths against the config directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-https-'));
    await issueDevCertificate(dir, ['localhost'], 'rel');
    const result = validateConfig({ listeners: [{ port: 8443, tls: { certs: [{ cert: 'dev-ca/rel.pem', key: 'dev-ca/rel-key.pem' }] } }], routes }, dir);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.config.listeners[0].tls, { kind: 'files', certs: [{ cert: join(dir, 'dev-ca/rel.pem'), key: join(dir, 'dev-ca/rel-key.pem') }] });
    const dev = validateConfig({ listeners: [{ port: 8443, tls: 'dev' }], routes }, dir);
    assert.ok(dev.ok && dev.config.listeners[0].tls?.kind === 'dev');
  });
});

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  describe('redirects and HSTS at the edge', () => {
    it('http → https 301/308 before any upstream is asked; HSTS on https responses only; www → apex', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'portico-https-'));
      const ca = readFileSync((await ensureDevCa(dir)).cert);
      const pair = await issueDevCertificate(dir, ['shop.test', 'www.shop.test', 'localhost'], 'site');
      let upstreamHits = 0;
      const upstream = await scriptedServer((_req, res) => {
        upstreamHits++;
        res.end('from upstream');
      });
      const s = await startStack({
        listeners: [
          { name: 'plain', host: '127.0.0.1', port: 0, redirectToHttps: { port: 8443 } },
          { name: 'secure', host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] }, hsts: { maxAge: 600 }, canonicalHosts: { 'www.shop.test': 'shop.test' }, engine },
        ],
        pools: { web: { servers: [{ url: upstream.url }] } },
        routes: [{ upstream: 'web' }],
      }, dir);
      try {
        const [plain, secure] = s.stack.addresses();
        const plainRequest = (method: string, path: string, host: string) => new Promise<http.IncomingMessage>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: plain.port, method, path, headers: { host } }, (res) => resolve(res.resume()));
          req.on('error', reject).end(method === 'POST' ? 'x=1' : undefined);
        });
        const get = await plainRequest('GET', '/cart?id=7', 'Shop.Test:8080');
        assert.equal(get.statusCode, 301);
        assert.equal(get.headers.location, 'https://shop.test:8443/cart?id=7');
        assert.equal(get.headers['strict-transport-security'], undefined, 'never over cleartext (RFC 6797 §7.2)');
        assert.ok(get.headers['x-request-id']);
        const post = await plainRequest('POST', '/order', 'shop.test');
        assert.equal(post.statusCode, 308);
        assert.equal(post.headers.location, 'https://shop.test:8443/order');
        assert.equal(upstreamHits, 0, 'redirects cost the upstream nothing');

        const h2get = (authority: string) => new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
          const session = http2.connect(`https://localhost:${secure.port}`, { ca });
          const stream = session.request({ ':path': '/p', ':authority': authority });
          let body = '';
          let headers: http2.IncomingHttpHeaders = {};
          stream.on('response', (h) => (headers = h)).setEncoding('utf8').on('data', (c: string) => (body += c));
          stream.on('end', () => {
            session.close();
            resolve({ status: Number(headers[':status']), headers, body });
          }).on('error', reject);
        });
        const ok = await h2get(`shop.test:${secure.port}`);
        assert.equal(ok.status, 200);
        assert.equal(ok.body, 'from upstream');
        assert.equal(ok.headers['strict-transport-security'], 'max-age=600');
        const www = await h2get(`www.shop.test:${secure.port}`);
        assert.equal(www.status, 301);
        assert.equal(www.headers.location, `https://shop.test:${secure.port}/p`);
        assert.equal(upstreamHits, 1);
      } finally {
        await s.close();
        await upstream.close();
      }
    });

    it('config: hsts needs tls, redirectToHttps needs cleartext, preload needs a year and subdomains', () => {
      const messages = (listener: Record<string, unknown>) => {
        const r = validateConfig({ listeners: [{ port: 8443, ...listener }], routes }, '/');
        return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
      };
      assert.deepEqual(messages({ hsts: true }), ['listeners[0].hsts: hsts is sent on https responses only: this listener has no "tls"']);
      assert.deepEqual(messages({ tls: 'dev', redirectToHttps: true }), ['listeners[0].redirectToHttps: this listener already serves https: put redirectToHttps on the cleartext listener']);
      assert.deepEqual(messages({ tls: 'dev', hsts: { preload: true } }), ['listeners[0].hsts.preload: preload requires includeSubDomains: true and maxAge of at least 31536000 (one year)']);
      assert.deepEqual(messages({ tls: 'dev', hsts: { preload: true, includeSubDomains: true } }), []);
      assert.equal(messages({ canonicalHosts: { 'www.x.test': 'not a host' } })[0]?.startsWith('listeners[0].canonicalHosts'), true);
    });
  });
});

describe('h2 through the proxy', () => {
  it('an h2 POST without Content-Length streams to an HTTP/1.1 upstream with https forwarded facts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-https-'));
    const ca = readFileSync((await ensureDevCa(dir)).cert);
    const pair = await issueDevCertificate(dir, ['shop.test'], 'site');
    const upstream = await scriptedServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => res.end(JSON.stringify({ method: req.method, url: req.url, body, headers: req.headers })));
    });
    const s = await startStack({
      listeners: [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] } }],
      trustedProxies: [],
      pools: { web: { servers: [{ url: upstream.url }] } },
      routes: [{ upstream: 'web' }],
    }, dir);
    const { port } = s.stack.addresses()[0];
    const session = http2.connect(`https://shop.test:${port}`, { ca, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) });
    try {
      const seen = await new Promise<{ method: string; url: string; body: string; headers: Record<string, string> }>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/orders?x=1', 'content-type': 'text/plain', cookie: ['a=1', 'b=2'] });
        let data = '';
        stream.setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => resolve(JSON.parse(data))).on('error', reject);
        stream.write('part one, ');
        setImmediate(() => stream.end('part two'));
      });
      assert.equal(seen.method, 'POST');
      assert.equal(seen.url, '/orders?x=1');
      assert.equal(seen.body, 'part one, part two');
      assert.equal(seen.headers.host, `shop.test:${port}`);
      assert.equal(seen.headers.cookie, 'a=1; b=2');
      assert.equal(seen.headers['x-forwarded-proto'], 'https');
      assert.equal(seen.headers.forwarded, `for=127.0.0.1;proto=https;host="shop.test:${port}"`);
      assert.deepEqual(Object.keys(seen.headers).filter((k) => k.startsWith(':')), []);
    } finally {
      session.close();
      await s.close();
      await upstream.close();
    }
  });
});

/** Raw bytes over TLS with ALPN http/1.1 (or none); everything the server sends until it closes. */
function tlsExchange(port: number, ca: Buffer, raw: string, alpn: string[] | undefined = ['http/1.1']): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: alpn }, () => socket.write(raw));
    let data = '';
    socket.setEncoding('latin1').on('data', (c: string) => (data += c));
    socket.on('error', () => {});
    socket.on('close', () => resolve(data));
  });
}

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  it('HTTP/1.1 over TLS (ALPN http/1.1 or none) is served by the configured engine, with https facts and HSTS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-https-'));
    const ca = readFileSync((await ensureDevCa(dir)).cert);
    const pair = await issueDevCertificate(dir, ['localhost'], 'site');
    const upstream = await scriptedServer((req, res) => res.end(`${String(req.headers['x-forwarded-proto'])} ${req.url}`));
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] }, hsts: { maxAge: 60 }, engine }], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ upstream: 'web' }] }, dir);
    try {
      const { port } = s.stack.addresses()[0];
      for (const alpn of [['http/1.1'], undefined]) {
        const got = await tlsExchange(port, ca, 'GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', alpn);
        assert.equal((got.match(/HTTP\/1\.1 200 /g) ?? []).length, 2, got);
        assert.match(got, /\r\n\r\nhttps \/a/);
        assert.match(got, /strict-transport-security: max-age=60\r\n/i);
      }
      // An HTTP/2.0 request line: the portico engine answers 505, node:http serves it (the pinned
      // differences in test/h1-differential.test.ts): the answer shows which engine parsed it.
      const probe = await tlsExchange(port, ca, 'GET /c HTTP/2.0\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      assert.match(probe, engine === 'portico' ? /^HTTP\/1\.1 505 / : /^HTTP\/1\.1 200 /);
    } finally {
      await s.close();
      await upstream.close();
    }
  });

  describe('upgrades over TLS', () => {
    it('an HTTP/1.1 WebSocket upgrade on an https listener reaches the upstream', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'portico-https-'));
      const ca = readFileSync((await ensureDevCa(dir)).cert);
      const pair = await issueDevCertificate(dir, ['localhost'], 'site');
      const upstream = await scriptedServer((_req, res) => res.end('plain'));
      upstream.server.on('upgrade', (req, socket) => {
        socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Proto: ${String(req.headers['x-forwarded-proto'])}\r\n\r\n`);
      });
      const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] }, engine }], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ upstream: 'web' }] }, dir);
      try {
        const { port } = s.stack.addresses()[0];
        const got = await new Promise<string>((resolve) => {
          const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: ['http/1.1'] }, () => {
            socket.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
          });
          let data = '';
          socket.setEncoding('latin1').on('data', (c: string) => (data += c));
          socket.on('error', () => {});
          socket.on('close', () => resolve(data));
        });
        assert.match(got, /^HTTP\/1\.1 101 /);
        assert.match(got, /\r\nX-Seen-Proto: https\r\n/i, 'the tunnel knows the client came over TLS');
      } finally {
        await s.close();
        await upstream.close();
      }
    });
  });
});
