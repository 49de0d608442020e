// Health checks and WebSocket tunnels to `https://` servers use the pool's TLS settings, like
// proxied requests: HTTP checks run over TLS (and fail on a certificate the proxy would refuse),
// TCP checks only connect, and upgrades reach a wss origin through tls.connect.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { makeTestPki, type TestPki } from './helpers/test-pki.ts';
import { startStack, type TestStack } from './helpers/stack.ts';
import { waitFor } from './helpers/servers.ts';
import { probe } from '../src/balancer/health-check.ts';
import { loadUpstreamTls, serverTlsOptions } from '../src/balancer/upstream-tls.ts';
import type { ResolvedHealthCheck } from '../src/config/resolved.ts';

let pki: TestPki;
before(async () => { pki = await makeTestPki(); });
after(() => pki.remove());

interface Origin { port: number; url: string; healthy: boolean; checks: { encrypted: boolean; servername: string | false }[]; wss: WebSocketServer; close(): Promise<void> }

/** An https origin with `/health` (200 or 503 as `healthy` says) and a WebSocket echo on upgrades. */
async function origin(): Promise<Origin> {
  const server = https.createServer({ cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey) }, (req, res) => {
    if (req.url === '/health') {
      const socket = req.socket as TLSSocket;
      o.checks.push({ encrypted: socket.encrypted === true, servername: socket.servername ?? false });
      res.statusCode = o.healthy ? 200 : 503;
    }
    res.end('ok');
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.send(`hello over ${(req.socket as TLSSocket).encrypted === true ? 'tls' : 'cleartext'} at ${req.url}`);
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const o: Origin = {
    port, url: `https://127.0.0.1:${port}`, healthy: true, checks: [], wss,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return o;
}

const check: ResolvedHealthCheck = { type: 'http', method: 'GET', path: '/health', status: [200, 299], body: null, interval: 1000, timeout: 1000, rise: 1, fall: 1 };

describe('health checks to https:// servers', () => {
  test('probe: HTTP checks run over TLS with the pool\'s CA and SNI; an untrusted certificate fails them; TCP checks only connect', async () => {
    const o = await origin();
    const trusted = serverTlsOptions('127.0.0.1', undefined, loadUpstreamTls({ ca: [pki.ca], servername: 'origin.test', rejectUnauthorized: true, cert: null, key: null }));
    const untrusted = serverTlsOptions('127.0.0.1', undefined, null);
    try {
      assert.equal(await probe(o.url, check, trusted), true);
      assert.deepEqual(o.checks, [{ encrypted: true, servername: 'origin.test' }]);
      assert.equal(await probe(o.url, check, untrusted), false);
      assert.equal(o.checks.length, 1, 'the refused handshake sent no request');
      assert.equal(await probe(o.url, { ...check, type: 'tcp' }, untrusted), true);
      o.healthy = false;
      assert.equal(await probe(o.url, check, trusted), false);
    } finally {
      await o.close();
    }
  });

  test('a failing check over TLS marks the server down (503), a passing one brings it back', async () => {
    const o = await origin();
    const s = await startStack({
      pools: { o: { servers: [{ url: o.url }], tls: { ca: pki.ca }, retries: 0, healthCheck: { path: '/health', interval: 50, timeout: 1000, rise: 1, fall: 1 } } },
      routes: [{ path: '/', upstream: 'o' }],
    });
    const status = async () => (await fetch(s.url + '/')).status;
    try {
      assert.equal(await status(), 200);
      o.healthy = false;
      await waitFor(async () => (await status()) === 503, 'the server marked down');
      o.healthy = true;
      await waitFor(async () => (await status()) === 200, 'the server back up');
      assert.ok(o.checks.length >= 2 && o.checks.every((c) => c.encrypted), 'every check came over TLS');
      assert.ok(s.logs.some((l) => /is down/.test(l)), s.logs.join('\n'));
    } finally {
      await s.close();
      await o.close();
    }
  });

  test('without the CA the checks fail the handshake, so the server is down (503), not answered 502 per request', async () => {
    const o = await origin();
    const s = await startStack({
      pools: { o: { servers: [{ url: o.url }], tls: { servername: 'origin.test' }, retries: 0, healthCheck: { path: '/health', interval: 50, timeout: 1000, rise: 1, fall: 1 } } },
      routes: [{ path: '/', upstream: 'o' }],
    });
    try {
      await waitFor(async () => (await fetch(s.url + '/')).status === 503, 'the server marked down by failed TLS checks');
      assert.equal(o.checks.length, 0);
    } finally {
      await s.close();
      await o.close();
    }
  });
});

describe('health checks to h2-only servers (http2: true)', () => {
  test('the check speaks h2 when the server picks it, so an h2-only server is up; without http2 its HTTP/1.1 check fails', async () => {
    const versions: string[] = [];
    const server = http2.createSecureServer({ cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey) }, (req, res) => {
      versions.push(`${req.httpVersion} ${req.method} ${req.url}`);
      res.statusCode = req.url === '/health' ? 204 : 200;
      res.end(req.url === '/health' ? '' : 'h2 only');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const settings = loadUpstreamTls({ ca: [pki.ca], servername: null, rejectUnauthorized: true, cert: null, key: null });
    const s = await startStack({
      pools: { o: { servers: [{ url }], tls: { ca: pki.ca }, http2: true, retries: 0, healthCheck: { path: '/health', interval: 50, timeout: 1000, rise: 1, fall: 1 } } },
      routes: [{ path: '/', upstream: 'o' }],
    });
    try {
      assert.equal(await probe(url, { ...check, body: null }, serverTlsOptions('127.0.0.1', undefined, settings, true)), true);
      assert.equal(await probe(url, check, serverTlsOptions('127.0.0.1', undefined, settings, false)), false);
      await waitFor(() => versions.filter((v) => v === '2.0 GET /health').length >= 3, 'several h2 checks from the stack');
      const res = await fetch(s.url + '/x');
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'h2 only');
      assert.ok(versions.includes('2.0 GET /x'));
    } finally {
      await s.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('WebSockets to wss origins', () => {
  function open(s: TestStack, path: string): Promise<{ ws: WebSocket; first: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}${path}`);
      ws.once('message', (d) => resolve({ ws, first: d.toString() }));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode, code: res.headers['x-portico-error'], body })));
      });
    });
  }

  test('an upgrade goes to the https server over TLS and the tunnel carries messages both ways', async () => {
    const o = await origin();
    const s = await startStack({ pools: { o: { servers: [{ url: o.url }], tls: { ca: pki.ca } } }, routes: [{ path: '/', upstream: 'o' }] });
    try {
      const { ws, first } = await open(s, '/chat?x=1');
      assert.equal(first, 'hello over tls at /chat?x=1');
      const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
      ws.send('ping');
      assert.equal(await echoed, 'ping');
      ws.close();
    } finally {
      await s.close();
      await o.close();
    }
  });

  test('an untrusted wss certificate: the handshake gets 502 UPSTREAM_TLS naming the reason, logged', async () => {
    const o = await origin();
    const s = await startStack({ pools: { o: { servers: [{ url: o.url }], retries: 0 } }, routes: [{ path: '/', upstream: 'o' }] });
    try {
      await assert.rejects(open(s, '/chat'), (err: { status: number; code: string; body: string }) => {
        assert.equal(err.status, 502);
        assert.equal(err.code, 'UPSTREAM_TLS');
        assert.match(err.body, /unknown issuer/);
        return true;
      });
      assert.ok(s.logs.some((l) => /TLS handshake with upstream/.test(l)), s.logs.join('\n'));
    } finally {
      await s.close();
      await o.close();
    }
  });
});
