// A reload that changes a pool's connection settings (timeouts, connections, client) applies them
// to the servers that stay, keeping their state; requests already in flight finish on the old
// connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startStack } from './helpers/stack.ts';
import { scriptedServer, waitFor } from './helpers/servers.ts';
import { validateConfig } from '../src/config/validate.ts';
import { UPSTREAM_CLIENTS } from './helpers/upstream-client.ts';
import type { Duration } from '../src/config/types.ts';

for (const client of UPSTREAM_CLIENTS) {
  test(`${client} client: a reload's new timeout applies at once; the request in flight keeps the old one`, async () => {
    const held: http.ServerResponse[] = [];
    const up = await scriptedServer((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 2500);
      else if (req.url === '/hold') held.push(res);
      else res.end('fast');
    });
    const config = (timeout: Duration) => ({
      pools: { web: { client, timeout, servers: [{ url: up.url }] } },
      routes: [{ upstream: 'web' }],
    });
    const s = await startStack(config('10s'));
    try {
      assert.equal((await fetch(`${s.url}/fast`)).status, 200);
      const pending = fetch(`${s.url}/hold`);
      await waitFor(() => held.length === 1, 'a request in flight');
      const next = validateConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], ...config('500ms') }, process.cwd());
      assert.ok(next.ok);
      await s.stack.reload(next.config);
      // The new response deadline: 2.5 s is now too slow (undici checks its deadline on a coarse
      // ~1 s timer, so the timeout is well under the delay for both clients).
      const late = await fetch(`${s.url}/slow`);
      assert.equal(late.status, 504);
      // The request sent before the reload still has its 10 s deadline, on its old connection:
      // it has now waited longer than the new deadline.
      held[0].end('held done');
      const r = await pending;
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'held done');
      assert.equal(await (await fetch(`${s.url}/fast`)).text(), 'fast');
    } finally {
      await s.close();
      await up.close();
    }
  });
}

test('a reload can switch a pool from the undici client to the own one and back, keeping server state', async () => {
  const up = await scriptedServer((_req, res) => res.end('ok'));
  const config = (client: 'portico' | 'undici') => ({ pools: { web: { client, servers: [{ url: up.url }] } }, routes: [{ upstream: 'web' }] });
  const s = await startStack(config('undici'));
  type Pools = Record<string, { servers: { requests: number }[] }>;
  try {
    for (const client of ['portico', 'undici', 'portico'] as const) {
      const next = validateConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], ...config(client) }, process.cwd());
      assert.ok(next.ok);
      await s.stack.reload(next.config);
      assert.equal(await (await fetch(s.url)).text(), 'ok');
    }
    // Same server object throughout: its request count kept growing across the swaps.
    assert.equal((s.stack.status().pools as Pools).web.servers[0].requests, 3);
  } finally {
    await s.close();
    await up.close();
  }
});
