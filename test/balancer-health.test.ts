// Active health checks end to end: a failing server leaves the pool within fall × interval and
// comes back within rise × interval after it recovers; the verdict survives a config reload.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { closedPort, scriptedServer, waitFor } from './helpers/servers.ts';
import { UPSTREAM_CLIENTS, withClient } from './helpers/upstream-client.ts';
import { startStack } from './helpers/stack.ts';
import { validateConfig } from '../src/config/validate.ts';
import type { PorticoConfig } from '../src/config/types.ts';

type Pools = Record<string, { servers: { address: string; healthy: boolean }[] }>;
const INTERVAL = 100;
// Scheduling on a loaded 2-core machine: a check round may start this late.
const SLACK = 400;

async function flaky(name: string) {
  const state = { failing: false, body: 'OK' };
  const server = await scriptedServer((req, res) => {
    if (req.url === '/health') {
      res.statusCode = state.failing ? 500 : 200;
      res.end(state.body);
      return;
    }
    res.end(name);
  });
  return { ...server, state };
}

const healthOf = (pools: Pools, pool: string, address: string) => pools[pool].servers.find((s) => s.address === address)?.healthy;

for (const client of UPSTREAM_CLIENTS) describe(`${client} upstream client`, () => {
  test('a failing server is removed within fall × interval and back within rise × interval', async () => {
    const a = await flaky('a');
    const b = await flaky('b');
    const fall = 3;
    const rise = 2;
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: a.url }, { url: b.url }], healthCheck: { path: '/health', interval: INTERVAL, timeout: '500ms', fall, rise } } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    const aHealthy = () => healthOf(s.stack.status().pools as Pools, 'web', `127.0.0.1:${a.port}`);
    try {
      a.state.failing = true;
      let since = Date.now();
      await waitFor(() => aHealthy() === false, 'a marked down');
      const down = Date.now() - since;
      assert.ok(down <= fall * INTERVAL + SLACK, `down after ${down} ms`);
      assert.ok(down >= (fall - 1) * INTERVAL - 50, `down after only ${down} ms: fewer than ${fall} checks`);
      for (let i = 0; i < 6; i++) assert.equal(await (await fetch(s.url)).text(), 'b');

      a.state.failing = false;
      since = Date.now();
      await waitFor(() => aHealthy() === true, 'a back up');
      const up = Date.now() - since;
      assert.ok(up <= rise * INTERVAL + SLACK, `up after ${up} ms`);
      const answers = new Set<string>();
      for (let i = 0; i < 6; i++) answers.add(await (await fetch(s.url)).text());
      assert.deepEqual([...answers].sort(), ['a', 'b']);
      assert.ok(s.logs.some((l) => l.includes(`server 127.0.0.1:${a.port} is down`)));
    } finally {
      await s.close();
      await a.close();
      await b.close();
    }
  });

  test('an HTTP check also needs the expected body; a TCP check needs only the connect', async () => {
    const a = await flaky('a');
    const port = await closedPort();
    const s = await startStack(withClient(client, {
      pools: {
        body: { servers: [{ url: a.url }], healthCheck: { path: '/health', body: 'OK', expectStatus: '200', interval: INTERVAL, fall: 1, rise: 1 } },
        tcp: { servers: [{ url: `http://127.0.0.1:${port}` }], healthCheck: { type: 'tcp', interval: INTERVAL, fall: 1, rise: 1 } },
      },
      routes: [{ path: '/a', upstream: 'body' }, { path: '/t', upstream: 'tcp' }],
    }));
    const pools = () => s.stack.status().pools as Pools;
    const late = http.createServer((_req, res) => res.end('late'));
    try {
      a.state.body = 'NOT READY';
      await waitFor(() => healthOf(pools(), 'body', `127.0.0.1:${a.port}`) === false, 'body mismatch marks down');
      a.state.body = 'all OK here';
      await waitFor(() => healthOf(pools(), 'body', `127.0.0.1:${a.port}`) === true, 'body match marks up');

      await waitFor(() => healthOf(pools(), 'tcp', `127.0.0.1:${port}`) === false, 'refused connect marks down');
      await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
      await waitFor(() => healthOf(pools(), 'tcp', `127.0.0.1:${port}`) === true, 'accepted connect marks up');
      assert.equal(await (await fetch(`${s.url}/t`)).text(), 'late');
    } finally {
      await s.close();
      await a.close();
      late.closeAllConnections();
      await new Promise((r) => late.close(r));
    }
  });

  test('health state lives on the runtime server: a config reload keeps a down server down', async () => {
    const a = await flaky('a');
    const b = await flaky('b');
    a.state.failing = true;
    const input: PorticoConfig = {
      pools: { web: { servers: [{ url: a.url }, { url: b.url }], healthCheck: { path: '/health', interval: '1m', fall: 1, rise: 1 } } },
      routes: [{ path: '/', upstream: 'web' }],
    };
    const s = await startStack(withClient(client, input));
    const aHealthy = () => healthOf(s.stack.status().pools as Pools, 'web', `127.0.0.1:${a.port}`);
    try {
      // The first round runs at start; the next is a minute away, so only the reload could change the verdict.
      await waitFor(() => aHealthy() === false, 'a marked down');
      const next = validateConfig({ ...input, listeners: [{ host: '127.0.0.1', port: 0 }], runtimeDir: s.stack.config.runtimeDir, routes: [{ path: '/', upstream: 'web', name: 'renamed' }] }, process.cwd());
      assert.ok(next.ok);
      await s.stack.reload(next.config);
      assert.equal(aHealthy(), false);
      for (let i = 0; i < 4; i++) assert.equal(await (await fetch(s.url)).text(), 'b');
    } finally {
      await s.close();
      await a.close();
      await b.close();
    }
  });
});
