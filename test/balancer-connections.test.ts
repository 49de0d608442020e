// Upstream connection settings per pool: `bodyTimeout` (idle time between response body chunks,
// distinct from `timeout`, the time to the response head) and `keepAliveTimeout` (idle upstream
// keep-alive connections are closed by us, whatever the server would allow).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import { scriptedServer, waitFor } from './helpers/servers.ts';
import { UPSTREAM_CLIENTS, withClient } from './helpers/upstream-client.ts';
import { startStack } from './helpers/stack.ts';

/** GET through the stack with node:http, so a cut connection shows as an 'aborted'/'error', not a fetch abstraction. */
function get(url: string): Promise<{ status: number; body: string; cut: boolean }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cut: false }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body, cut: true }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, cut: true }));
    }).on('error', reject);
  });
}

for (const client of UPSTREAM_CLIENTS) describe(`${client} upstream client`, () => {
  test('a body that stalls mid-way is cut after bodyTimeout, with a log line naming pool and server', async () => {
    const held: http.ServerResponse[] = [];
    const up = await scriptedServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '10' });
      res.write('half-');
      held.push(res); // the other half never comes
    });
    const s = await startStack(withClient(client, {
      pools: { slow: { servers: [{ url: up.url }], timeout: '10s', bodyTimeout: '300ms' } },
      routes: [{ path: '/', upstream: 'slow' }],
    }));
    try {
      const started = Date.now();
      const r = await get(`${s.url}/stall`);
      const took = Date.now() - started;
      assert.equal(r.status, 200);
      assert.equal(r.cut, true);
      assert.equal(r.body, 'half-');
      // Cut by bodyTimeout (300 ms), long before `timeout` (10 s) could have ended it.
      assert.ok(took >= 250 && took < 5_000, `cut after ${took} ms`);
      await waitFor(() => s.logs.find((l) => l.includes(`pool "slow": upstream 127.0.0.1:${up.port} sent no body bytes for 300 ms`)), 'the body timeout log line');
    } finally {
      for (const res of held) res.destroy();
      await s.close();
      await up.close();
    }
  });

  test('bodyTimeout does not bound the wait for the head, and a body with steady chunks is never cut', async () => {
    const up = await scriptedServer((req, res) => {
      if (req.url === '/late-head') {
        // Head after 600 ms: past bodyTimeout (200 ms) but within timeout (5 s).
        setTimeout(() => res.end('late but fine'), 600);
        return;
      }
      // Five chunks 100 ms apart: 500 ms in all, never 200 ms idle.
      res.writeHead(200);
      let n = 0;
      const tick = setInterval(() => {
        if (++n === 5) {
          clearInterval(tick);
          res.end(`${n}`);
        } else {
          res.write(`${n},`);
        }
      }, 100);
    });
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: up.url }], timeout: '5s', bodyTimeout: '200ms' } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    try {
      assert.deepEqual(await get(`${s.url}/late-head`), { status: 200, body: 'late but fine', cut: false });
      assert.deepEqual(await get(`${s.url}/chunks`), { status: 200, body: '1,2,3,4,5', cut: false });
      assert.ok(!s.logs.some((l) => l.includes('bodyTimeout')), s.logs.join('\n'));
    } finally {
      await s.close();
      await up.close();
    }
  });

  test('no response head within timeout is still a 504, whatever bodyTimeout says', async () => {
    const held: http.ServerResponse[] = [];
    const up = await scriptedServer((_req, res) => held.push(res));
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: up.url }], timeout: '200ms', bodyTimeout: '10s', retries: 0 } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    try {
      const r = await get(`${s.url}/`);
      assert.equal(r.status, 504);
    } finally {
      for (const res of held) res.destroy();
      await s.close();
      await up.close();
    }
  });

  test('an idle upstream keep-alive connection is closed after keepAliveTimeout', async () => {
    const closed: number[] = [];
    let sockets = 0;
    const up = await scriptedServer((_req, res) => res.end('ok'));
    // The server would keep the connection for a minute (and says so in its Keep-Alive header).
    up.server.keepAliveTimeout = 60_000;
    up.server.on('connection', (socket: Socket) => {
      sockets++;
      socket.once('close', () => closed.push(Date.now()));
    });
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: up.url }], keepAliveTimeout: '300ms' } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    try {
      const r = await get(`${s.url}/`);
      const done = Date.now();
      assert.deepEqual(r, { status: 200, body: 'ok', cut: false });
      assert.equal(sockets, 1);
      await waitFor(() => closed.length === 1, 'the idle upstream connection to close', 5_000);
      const idle = closed[0] - done;
      // undici's timers are coarse (up to ~1 s); a minute is what the server alone would allow.
      assert.ok(idle >= 200 && idle < 3_000, `closed after ${idle} ms idle`);
    } finally {
      await s.close();
      await up.close();
    }
  });

  test('keep-alive connections are reused while younger than keepAliveTimeout', async () => {
    let sockets = 0;
    const up = await scriptedServer((_req, res) => res.end('ok'));
    up.server.on('connection', () => sockets++);
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: up.url }], keepAliveTimeout: '30s' } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    try {
      for (let i = 0; i < 5; i++) assert.equal((await get(`${s.url}/`)).status, 200);
      assert.equal(sockets, 1);
    } finally {
      await s.close();
      await up.close();
    }
  });
});
