// The PROXY protocol in front of TLS: an L4 balancer (HAProxy `send-proxy`, an AWS NLB) writes the
// header, then relays the client's TLS bytes untouched. v1 and v2 headers before h1 and h2 handshakes;
// the header's client is what the upstream (X-Forwarded-For, X-Real-IP) and the access log see.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdtempSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startStack, type TestStack } from '../../test/helpers/stack.ts';
import { scriptedServer, waitFor, type Scripted } from '../../test/helpers/servers.ts';

const SIG = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

/** A v2 PROXY header for TCP over IPv4 or IPv6 (HAProxy's spec §2.2). */
function v2(source: string, sport: number): Buffer {
  const v6 = net.isIP(source) === 6;
  const body = Buffer.alloc(v6 ? 36 : 12);
  if (v6) {
    expand(source).forEach((g, i) => body.writeUInt16BE(g, i * 2));
    body[31] = 1; // destination ::1
    body.writeUInt16BE(sport, 32);
    body.writeUInt16BE(443, 34);
  } else {
    Buffer.from(source.split('.').map(Number)).copy(body, 0);
    Buffer.from([10, 0, 0, 1]).copy(body, 4);
    body.writeUInt16BE(sport, 8);
    body.writeUInt16BE(443, 10);
  }
  return Buffer.concat([SIG, Buffer.from([0x21, v6 ? 0x21 : 0x11, 0, body.length]), body]);
}

/** An IPv6 address's eight 16-bit groups ("::" expanded). */
function expand(address: string): number[] {
  const [head, tail = ''] = address.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  return [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
}

/** A TCP connection that writes `header` first, then runs TLS over the same socket. */
async function tlsAfterHeader(port: number, header: Buffer, alpn: string): Promise<tls.TLSSocket> {
  const raw = net.connect(port, '127.0.0.1');
  await once(raw, 'connect');
  raw.write(header);
  const secure = tls.connect({ socket: raw, servername: 'shop.test', ALPNProtocols: [alpn], rejectUnauthorized: false });
  await once(secure, 'secureConnect');
  assert.equal(secure.alpnProtocol, alpn);
  return secure;
}

/** One HTTP/1.1 request over an established TLS socket; the whole response once the server closes. */
async function h1Get(secure: tls.TLSSocket): Promise<string> {
  let got = '';
  secure.setEncoding('latin1').on('data', (c: string) => (got += c));
  // write, not end: a half-closed TLS connection is closed by the server before the upstream answers.
  secure.write('GET /who HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n');
  await once(secure, 'close');
  return got;
}

async function h2Get(secure: tls.TLSSocket): Promise<string> {
  const session = http2.connect('https://shop.test', { createConnection: () => secure });
  try {
    const stream = session.request({ ':path': '/who' });
    let body = '';
    stream.setEncoding('utf8').on('data', (c: string) => (body += c));
    const [headers] = await once(stream, 'response') as [http2.IncomingHttpHeaders];
    await once(stream, 'end');
    return `${headers[':status']} ${body}`;
  } finally {
    session.close();
  }
}

// HTTP/1.1 over TLS is node:http's or Portico's own (engine 'portico'); h2 is node:http2's on both.
for (const engine of ['node', 'portico'] as const) describe(`PROXY protocol before TLS (engine ${engine})`, () => {
  let upstream: Scripted;
  let s: TestStack;
  let port: number;
  const logFile = join(mkdtempSync(join(tmpdir(), 'portico-pp-tls-')), 'access.log');
  const seen: string[] = [];

  before(async () => {
    upstream = await scriptedServer((req, res) => {
      seen.push(String(req.headers['x-forwarded-for']));
      res.end(JSON.stringify({ realIp: req.headers['x-real-ip'], xff: req.headers['x-forwarded-for'] }));
    });
    s = await startStack({
      listeners: [{ name: 'https', host: '127.0.0.1', port: 0, tls: 'dev', proxyProtocol: true, engine }],
      trustedProxies: ['127.0.0.1'],
      pools: { web: { servers: [{ url: upstream.url }] } },
      routes: [{ host: 'shop.test', upstream: 'web' }],
      accessLog: { path: logFile, format: '$remote_addr $server_protocol $status' },
    }, process.cwd(), { accessLog: true });
    port = s.stack.addresses()[0].port;
  });
  after(async () => {
    await s?.close();
    await upstream?.close();
  });

  const cases: [string, Buffer, 'http/1.1' | 'h2', string][] = [
    ['v1 TCP4, HTTP/1.1', Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 4711 443\r\n'), 'http/1.1', '198.51.100.7'],
    ['v1 TCP6, h2', Buffer.from('PROXY TCP6 2001:db8::7 ::1 4711 443\r\n'), 'h2', '2001:db8::7'],
    ['v2 TCP4, h2', v2('203.0.113.9', 5000), 'h2', '203.0.113.9'],
    ['v2 TCP6, HTTP/1.1', v2('2001:db8::9', 5000), 'http/1.1', '2001:db8::9'],
  ];
  for (const [name, header, alpn, client] of cases) {
    it(`${name}: the upstream and the access log see the header's client`, async () => {
      const secure = await tlsAfterHeader(port, header, alpn);
      const got = alpn === 'h2' ? await h2Get(secure) : await h1Get(secure);
      assert.match(got, alpn === 'h2' ? /^200 / : /^HTTP\/1\.1 200 /);
      assert.ok(got.endsWith(JSON.stringify({ realIp: client, xff: client })), got);
      const protocol = alpn === 'h2' ? 'HTTP/2.0' : 'HTTP/1.1';
      await waitFor(() => existsSync(logFile) && readFileSync(logFile, 'utf8').split('\n').includes(`${client} ${protocol} 200`), `access log line for ${client}`);
    });
  }

  it('v2 LOCAL (a balancer health check) keeps the balancer as the client', async () => {
    const local = Buffer.concat([SIG, Buffer.from([0x20, 0x00, 0, 0])]);
    const got = await h1Get(await tlsAfterHeader(port, local, 'http/1.1'));
    assert.ok(got.endsWith(JSON.stringify({ realIp: '127.0.0.1', xff: '127.0.0.1' })), got);
  });

  it('a ClientHello without a header, or a malformed header, is closed before any handshake', async () => {
    const before = seen.length;
    for (const header of [Buffer.alloc(0), Buffer.from('PROXY TCP4 nope 10.0.0.1 1 443\r\n')]) {
      await assert.rejects(tlsAfterHeader(port, header, 'http/1.1'), /disconnected|ECONNRESET|socket hang up/);
    }
    assert.equal(seen.length, before, 'nothing reached the upstream');
  });
});

describe('PROXY protocol before TLS from an untrusted peer', () => {
  it('is refused: the connection closes before the handshake, nothing reaches the upstream', async () => {
    let reached = 0;
    const upstream = await scriptedServer((_req, res) => {
      reached++;
      res.end('reached');
    });
    const s = await startStack({
      listeners: [{ name: 'https', host: '127.0.0.1', port: 0, tls: 'dev', proxyProtocol: true }],
      trustedProxies: ['10.0.0.0/8'],
      pools: { web: { servers: [{ url: upstream.url }] } },
      routes: [{ upstream: 'web' }],
    });
    try {
      const port = s.stack.addresses()[0].port;
      await assert.rejects(tlsAfterHeader(port, Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 4711 443\r\n'), 'h2'), /disconnected|ECONNRESET|socket hang up/);
      assert.equal(reached, 0);
    } finally {
      await s.close();
      await upstream.close();
    }
  });
});
