// PROXY protocol v1/v2: header parsing (table-driven), then through a stack over raw sockets, on
// both edge engines (the header is read before either parses HTTP).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { parseProxyHeader } from './proxy-protocol.ts';
import { startStack } from '../../test/helpers/stack.ts';
import { scriptedServer } from '../../test/helpers/servers.ts';

const SIG = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

function v2(command: number, family: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = family;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIG, head, body]);
}

function v2Tcp4(src: number[], sport: number): Buffer {
  const body = Buffer.alloc(12);
  Buffer.from(src).copy(body, 0);
  Buffer.from([10, 0, 0, 1]).copy(body, 4);
  body.writeUInt16BE(sport, 8);
  body.writeUInt16BE(80, 10);
  return v2(1, 0x11, body);
}

function v2Tcp6(sport: number): Buffer {
  const body = Buffer.alloc(36);
  body.writeUInt16BE(0x2001, 0);
  body.writeUInt16BE(0x0db8, 2);
  body.writeUInt16BE(0x0001, 14); // 2001:db8::1
  body[31] = 1; // dst ::1
  body.writeUInt16BE(sport, 32);
  body.writeUInt16BE(443, 34);
  return v2(1, 0x21, body);
}

describe('parseProxyHeader', () => {
  const cases: [string, Buffer, string][] = [
    ['v1 TCP4', Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 4711 80\r\nGET'), 'ok 42 198.51.100.7:4711'],
    ['v1 TCP6', Buffer.from('PROXY TCP6 2001:db8::1 ::1 4711 443\r\n'), 'ok 37 2001:db8::1:4711'],
    ['v1 UNKNOWN (a health check): keep the peer', Buffer.from('PROXY UNKNOWN\r\n'), 'ok 15 -'],
    ['v1 incomplete', Buffer.from('PROXY TCP4 198.51'), 'incomplete'],
    ['v1 prefix only', Buffer.from('PRO'), 'incomplete'],
    ['v1 family and address disagree', Buffer.from('PROXY TCP4 2001:db8::1 10.0.0.1 1 80\r\n'), 'invalid'],
    ['v1 port out of range', Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 65536 80\r\n'), 'invalid'],
    ['v1 leading zero port', Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 0080 80\r\n'), 'invalid'],
    ['v1 missing field', Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 80\r\n'), 'invalid'],
    ['v1 line longer than 107 bytes', Buffer.from('PROXY TCP4 ' + 'x'.repeat(120)), 'invalid'],
    ['plain HTTP instead of a header', Buffer.from('GET / HTTP/1.1\r\n'), 'invalid'],
    ['v2 TCP4', v2Tcp4([198, 51, 100, 7], 4711), 'ok 28 198.51.100.7:4711'],
    ['v2 TCP6', v2Tcp6(4711), 'ok 52 2001:db8::1:4711'],
    ['v2 LOCAL', v2(0, 0x00, Buffer.alloc(0)), 'ok 16 -'],
    ['v2 with TLVs after the addresses', v2(1, 0x11, Buffer.concat([v2Tcp4([192, 0, 2, 1], 1).subarray(16), Buffer.from([0x04, 0, 1, 9])])), 'ok 32 192.0.2.1:1'],
    ['v2 signature split across reads', SIG.subarray(0, 5), 'incomplete'],
    ['v2 body not all here yet', v2Tcp4([198, 51, 100, 7], 1).subarray(0, 20), 'incomplete'],
    ['v2 bad version', Buffer.concat([SIG, Buffer.from([0x11, 0x11, 0, 0])]), 'invalid'],
    ['v2 unknown command', v2(2, 0x11, Buffer.alloc(12)), 'invalid'],
    ['v2 UDP family', v2(1, 0x12, Buffer.alloc(12)), 'invalid'],
    ['v2 TCP4 too short for its addresses', v2(1, 0x11, Buffer.alloc(4)), 'invalid'],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => {
      const h = parseProxyHeader(input);
      const got = h.kind === 'ok' ? `ok ${h.length} ${h.source === null ? '-' : `${h.source.address}:${h.source.port}`}` : h.kind;
      assert.equal(got, want);
    });
  }
});

/** Sends raw chunks, returns everything the server wrote back until it closed. */
async function exchange(port: number, chunks: Buffer[]): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let got = '';
  socket.setEncoding('latin1').on('data', (c: string) => (got += c));
  socket.on('error', () => {});
  for (const chunk of chunks) {
    socket.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await once(socket, 'close');
  return got;
}

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine: a listener with proxyProtocol: true`, () => {
  const request = Buffer.from('GET / HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n');
  async function withStack(trustedProxies: string[], fn: (port: number) => Promise<void>): Promise<void> {
    const upstream = await scriptedServer((req, res) => res.end(JSON.stringify({ realIp: req.headers['x-real-ip'], xff: req.headers['x-forwarded-for'] })));
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, proxyProtocol: true, engine }], trustedProxies, pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ upstream: 'web' }] });
    try {
      await fn(s.stack.addresses()[0].port);
    } finally {
      await s.close();
      await upstream.close();
    }
  }

  it('v1 header and request in one write: the client is the header\'s source', () => withStack(['127.0.0.1'], async (port) => {
    const got = await exchange(port, [Buffer.concat([Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 4711 80\r\n'), request])]);
    assert.match(got, /^HTTP\/1\.1 200/);
    assert.match(got, /\{"realIp":"198\.51\.100\.7","xff":"198\.51\.100\.7"\}$/);
  }));

  it('v2 IPv6 header, then the request in later writes', () => withStack(['127.0.0.1'], async (port) => {
    const header = v2Tcp6(4711);
    const got = await exchange(port, [header.subarray(0, 10), header.subarray(10), request]);
    assert.match(got, /^HTTP\/1\.1 200/);
    assert.match(got, /"realIp":"2001:db8::1"/);
  }));

  it('v2 LOCAL (a balancer health check): the peer itself', () => withStack(['127.0.0.1'], async (port) => {
    const got = await exchange(port, [Buffer.concat([v2(0, 0, Buffer.alloc(0)), request])]);
    assert.match(got, /"realIp":"127\.0\.0\.1"/);
  }));

  for (const [name, chunk] of [
    ['a malformed header', Buffer.from('PROXY TCP4 nope 10.0.0.1 1 80\r\n')],
    ['no header at all', request],
  ] as const) {
    it(`${name} is closed without an answer`, () => withStack(['127.0.0.1'], async (port) => {
      assert.equal(await exchange(port, [Buffer.from(chunk)]), '');
    }));
  }

  it('a peer outside trustedProxies is closed, even with a well-formed header', () => withStack(['10.0.0.0/8'], async (port) => {
    assert.equal(await exchange(port, [Buffer.concat([Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 4711 80\r\n'), request])]), '');
  }));
});

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine: upgrades behind the PROXY protocol`, () => {
  it('a WebSocket upgrade reaches the upstream with the header\'s client address', async () => {
    const upstream = await scriptedServer((_req, res) => res.end('plain'));
    upstream.server.on('upgrade', (req, socket) => {
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Real-Ip: ${String(req.headers['x-real-ip'])}\r\n\r\n`);
    });
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, proxyProtocol: true, engine }], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ upstream: 'web' }] });
    try {
      const upgrade = 'GET /ws HTTP/1.1\r\nHost: shop.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
      const got = await exchange(s.stack.addresses()[0].port, [Buffer.from(`PROXY TCP4 198.51.100.7 10.0.0.1 4711 80\r\n${upgrade}`)]);
      assert.match(got, /^HTTP\/1\.1 101 /);
      assert.match(got, /X-Seen-Real-Ip: 198\.51\.100\.7/i);
    } finally {
      await s.close();
      await upstream.close();
    }
  });
});
