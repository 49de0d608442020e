// The balancer's failure answers end to end: all servers down, response timeout, retries on
// connect failure and on a connection closed before any response byte, and no retry of a POST
// whose body was sent.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { closedPort, scriptedServer, waitFor } from './helpers/servers.ts';
import { UPSTREAM_CLIENTS, withClient } from './helpers/upstream-client.ts';
import { startStack } from './helpers/stack.ts';

const maintenancePage = fileURLToPath(new URL('./fixtures/balancer/maintenance.html', import.meta.url));
type Pools = Record<string, { servers: { healthy: boolean }[]; retries: { retried: number } }>;

for (const client of UPSTREAM_CLIENTS) describe(`${client} upstream client`, () => {
  test('all servers down: 503 with the maintenance page, Retry-After and a log line naming the pool', async () => {
    const ports = [await closedPort(), await closedPort()];
    const s = await startStack(withClient(client, {
      pools: {
        shop: {
          servers: ports.map((p) => ({ url: `http://127.0.0.1:${p}` })),
          healthCheck: { type: 'tcp', interval: '50ms', timeout: '200ms', fall: 1, rise: 1 },
          maintenancePage, retryAfter: '30s',
        },
      },
      routes: [{ path: '/', upstream: 'shop' }],
    }));
    try {
      await waitFor(() => (s.stack.status().pools as Pools).shop.servers.every((x) => !x.healthy), 'both servers marked down');
      const r = await fetch(`${s.url}/products`);
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '30');
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(await r.text(), readFileSync(maintenancePage, 'utf8'));
      assert.ok(s.logs.some((l) => l.includes('pool "shop": all servers are down')), s.logs.join('\n'));
    } finally {
      await s.close();
    }
  });

  test('all servers down without a maintenance page: the plain 503 with Retry-After', async () => {
    const up = await scriptedServer((_req, res) => res.end('ok'));
    const s = await startStack(withClient(client, { pools: { web: { servers: [{ url: up.url }] } }, routes: [{ path: '/', upstream: 'web' }] }));
    try {
      assert.equal(s.stack.setDraining('web', new URL(up.url).host, true), 'ok');
      const r = await fetch(s.url, { headers: { accept: 'application/json' } });
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '10');
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'NO_UPSTREAM');
    } finally {
      await s.close();
      await up.close();
    }
  });

  test('a response slower than the pool timeout gets 504 and is not retried', async () => {
    let arrivals = 0;
    const slow = await scriptedServer(() => { arrivals++; });
    const other = await scriptedServer(() => { arrivals++; });
    const s = await startStack(withClient(client, { pools: { web: { servers: [{ url: slow.url }, { url: other.url }], timeout: '200ms', retries: 2 } }, routes: [{ path: '/', upstream: 'web' }] }));
    try {
      const r = await fetch(s.url);
      assert.equal(r.status, 504);
      assert.equal(r.headers.get('x-portico-error'), 'UPSTREAM_TIMEOUT');
      assert.equal(arrivals, 1);
    } finally {
      await s.close();
      await slow.close();
      await other.close();
    }
  });

  test('connection refused with retries: every request succeeds on another server', async () => {
    const good = await scriptedServer((_req, res) => res.end('ok'));
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const s = await startStack(withClient(client, { pools: { web: { servers: [{ url: dead }, { url: good.url }], policy: 'round-robin' } }, routes: [{ path: '/', upstream: 'web' }] }));
    try {
      for (let i = 0; i < 6; i++) {
        const r = await fetch(s.url);
        assert.equal(r.status, 200);
        assert.equal(await r.text(), 'ok');
      }
      assert.ok((s.stack.status().pools as Pools).web.retries.retried >= 3);
    } finally {
      await s.close();
      await good.close();
    }
  });

  test('connection refused without retries: 502', async () => {
    const good = await scriptedServer((_req, res) => res.end('ok'));
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const s = await startStack(withClient(client, { pools: { web: { servers: [{ url: dead }, { url: good.url }], policy: 'round-robin', retries: 0 } }, routes: [{ path: '/', upstream: 'web' }] }));
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(s.url)).status);
      assert.deepEqual(statuses.sort(), [200, 200, 502, 502]);
    } finally {
      await s.close();
      await good.close();
    }
  });

  test('a GET whose connection closes before any response byte is retried on another server', async () => {
    const seen: string[] = [];
    let first = true;
    const make = (name: string) => scriptedServer((req, res) => {
      seen.push(name);
      if (first) {
        first = false;
        req.socket.destroy();
        return;
      }
      res.end(`from ${name}`);
    });
    const a = await make('a');
    const b = await make('b');
    const s = await startStack(withClient(client, { pools: { web: { servers: [{ url: a.url }, { url: b.url }] } }, routes: [{ path: '/', upstream: 'web' }] }));
    try {
      const r = await fetch(s.url);
      assert.equal(r.status, 200);
      assert.equal(seen.length, 2);
      assert.notEqual(seen[0], seen[1]);
      assert.equal(await r.text(), `from ${seen[1]}`);
    } finally {
      await s.close();
      await a.close();
      await b.close();
    }
  });

  test('a POST is not retried after its body was sent', async () => {
    const bodies: string[] = [];
    const make = () => scriptedServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        // The server took the body, then died without answering: it may have acted on it.
        res.socket?.destroy();
      });
    });
    const a = await make();
    const b = await make();
    const s = await startStack(withClient(client, { pools: { web: { servers: [{ url: a.url }, { url: b.url }], retries: 3 } }, routes: [{ path: '/', upstream: 'web' }] }));
    try {
      const r = await fetch(s.url, { method: 'POST', body: 'order=1' });
      assert.equal(r.status, 502);
      assert.deepEqual(bodies, ['order=1']);
    } finally {
      await s.close();
      await a.close();
      await b.close();
    }
  });
});
