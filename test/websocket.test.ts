// WebSockets through the proxy with the `ws` package on both ends: echo through a pool of two
// upstream servers, balancing, closes both ways, idle timeout, refusals, and counts in status() —
// on both edge engines (node:http's 'upgrade' event, and the portico engine's hand-over).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { closedPort } from './helpers/servers.ts';
import { startStack, type TestStack } from './helpers/stack.ts';

interface Upstream { server: http.Server; wss: WebSocketServer; port: number; name: string; seenHeaders: http.IncomingHttpHeaders[] }

async function echoServer(name: string): Promise<Upstream> {
  const server = http.createServer((_req, res) => res.end(name));
  const wss = new WebSocketServer({ noServer: true });
  const up: Upstream = { server, wss, port: 0, name, seenHeaders: [] };
  server.on('upgrade', (req, socket, head) => {
    up.seenHeaders.push(req.headers);
    if (req.url?.startsWith('/private')) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 6\r\nConnection: close\r\n\r\nno way');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(`hello from ${name} at ${req.url}`);
      ws.on('message', (data, binary) => ws.send(data, { binary }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  up.port = (server.address() as AddressInfo).port;
  return up;
}

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  let a: Upstream;
  let b: Upstream;
  let s: TestStack;

  before(async () => {
    a = await echoServer('a');
    b = await echoServer('b');
    const dead = await closedPort();
    s = await startStack({
      listeners: [{ host: '127.0.0.1', port: 0, engine }],
      pools: {
        ws: { servers: [{ url: `http://127.0.0.1:${a.port}` }, { url: `http://127.0.0.1:${b.port}` }], policy: 'round-robin' },
        dead: { servers: [{ url: `http://127.0.0.1:${dead}` }], retries: 0 },
      },
      routes: [
        { path: '/chat', upstream: 'ws', stripPrefix: true },
        { path: '/short', upstream: 'ws', websocket: { idleTimeout: '300ms' } },
        { path: '/nows', upstream: 'ws', websocket: false },
        { path: '/dead', upstream: 'dead' },
        { path: '/', respond: { status: 200, body: 'home' } },
      ],
    });
  });
  after(async () => {
    await s.close();
    for (const u of [a, b]) {
      for (const c of u.wss.clients) c.terminate();
      u.server.closeAllConnections();
      await new Promise<void>((r) => u.server.close(() => r()));
    }
  });

  function open(path: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; first: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}${path}`, { headers });
      ws.once('message', (d) => resolve({ ws, first: d.toString() }));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode, headers: res.headers })));
    });
  }

  const next = (ws: WebSocket) => new Promise<{ data: Buffer; binary: boolean }>((r) => ws.once('message', (data, binary) => r({ data: data as Buffer, binary })));

  test('echo through the proxy, prefix stripped, balanced across the pool, forwarded headers added', async () => {
    const one = await open('/chat/room?x=1', { 'x-forwarded-for': '6.6.6.6' });
    const two = await open('/chat/room');
    assert.deepEqual([one.first, two.first].sort(), ['hello from a at /room?x=1', 'hello from b at /room']);
    one.ws.send('ping');
    assert.equal((await next(one.ws)).data.toString(), 'ping');
    const big = Buffer.alloc(512 * 1024, 7);
    two.ws.send(big);
    const echoed = await next(two.ws);
    assert.equal(echoed.binary, true);
    assert.deepEqual(echoed.data, big);
    const seen = [...a.seenHeaders, ...b.seenHeaders].find((h) => h['x-forwarded-for'] !== undefined)!;
    assert.match(String(seen['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(seen['upgrade'], 'websocket');
    assert.equal(seen['connection'], 'Upgrade');
    assert.equal((s.stack.status() as { websockets: { active: number } }).websockets.active, 2);
    const closed = new Promise<number>((r) => one.ws.once('close', (code) => r(code)));
    one.ws.close(1000, 'bye');
    assert.equal(await closed, 1000);
    two.ws.terminate();
    const deadline = Date.now() + 5000;
    while ((s.stack.status() as { websockets: { active: number } }).websockets.active !== 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal((s.stack.status() as { websockets: { active: number; total: number } }).websockets.active, 0);
  });

  test('an idle tunnel is closed after the route idle timeout', async () => {
    const { ws } = await open('/short/x');
    const t0 = Date.now();
    await new Promise<void>((r) => ws.once('close', () => r()));
    assert.ok(Date.now() - t0 < 5000);
  });

  test('refusals: no upgrade route, upgrades off, upstream down, upstream says no', async () => {
    await assert.rejects(open('/'), (e: { status?: number }) => e.status === 404);
    await assert.rejects(open('/nows/x'), (e: { status?: number }) => e.status === 404);
    await assert.rejects(open('/dead/x'), (e: { status?: number; headers?: Record<string, string> }) => e.status === 502 && /^[0-9a-f-]{36}$/.test(e.headers?.['x-request-id'] ?? ''));
    await assert.rejects(open('/chat/private'), (e: { status?: number }) => e.status === 401);
    const res = await fetch(`${s.url}/chat/plain`);
    assert.ok(['a', 'b'].includes(await res.text()), 'plain requests on the same route still work');
  });
});
