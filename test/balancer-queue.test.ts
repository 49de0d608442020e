// The balancer's queue end to end: servers with maxConnections 1, requests beyond their slots
// wait in FIFO order and are served as slots free; past queue.timeout they get 504.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { scriptedServer, waitFor } from './helpers/servers.ts';
import { UPSTREAM_CLIENTS, withClient } from './helpers/upstream-client.ts';
import { startStack } from './helpers/stack.ts';

interface Held { id: string; res: http.ServerResponse }

/** Two upstreams that hold every response until the test releases it. */
async function holdingServers() {
  const held: Held[] = [];
  const arrivals: string[] = [];
  const handler: http.RequestListener = (req, res) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '?';
    arrivals.push(id);
    held.push({ id, res });
  };
  const a = await scriptedServer(handler);
  const b = await scriptedServer(handler);
  const release = (id: string) => {
    const i = held.findIndex((h) => h.id === id);
    assert.notEqual(i, -1, `request ${id} is not held`);
    held.splice(i, 1)[0].res.end(`done ${id}`);
  };
  return { a, b, held, arrivals, release, close: async () => { for (const h of held) h.res.end(); await a.close(); await b.close(); } };
}

for (const client of UPSTREAM_CLIENTS) describe(`${client} upstream client`, () => {
  test('queue: 2 servers of maxConnections 1 and 10 concurrent slow requests all complete, in order', async () => {
    const up = await holdingServers();
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: up.a.url, maxConnections: 1 }, { url: up.b.url, maxConnections: 1 }] } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    const queue = () => (s.stack.status().pools as Record<string, { queue: { depth: number; served: number } }>).web.queue;
    try {
      const responses: Promise<string>[] = [];
      for (let i = 0; i < 10; i++) {
        responses.push(fetch(`${s.url}/?id=${i}`).then((r) => r.text()));
        // Each request is in place (at a server or in the queue) before the next is sent, so arrival order is known.
        await waitFor(() => up.arrivals.length + queue().depth === i + 1, `request ${i} to arrive`);
      }
      assert.deepEqual(up.arrivals, ['0', '1']);
      assert.equal(queue().depth, 8);
      for (let i = 0; i < 10; i++) {
        up.release(String(i));
        assert.equal(await responses[i], `done ${i}`);
        // The slot that freed goes to the oldest queued request.
        if (i + 2 < 10) await waitFor(() => up.arrivals.length === i + 3, `request ${i + 2} to leave the queue`);
      }
      assert.deepEqual(up.arrivals, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      assert.equal(queue().depth, 0);
      assert.equal(queue().served, 8);
    } finally {
      await s.close();
      await up.close();
    }
  });

  test('queue: past queue.timeout the waiting requests get 504; past queue.maxLength 503 at once', async () => {
    const up = await holdingServers();
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: up.a.url, maxConnections: 1 }, { url: up.b.url, maxConnections: 1 }], queue: { maxLength: 2, timeout: '200ms' } } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    try {
      const first = [fetch(`${s.url}/?id=0`), fetch(`${s.url}/?id=1`)];
      await waitFor(() => up.arrivals.length === 2, 'both servers busy');
      const late = [fetch(`${s.url}/?id=2`), fetch(`${s.url}/?id=3`)];
      await waitFor(() => (s.stack.status().pools as Record<string, { queue: { depth: number } }>).web.queue.depth === 2, 'two queued');
      const full = await fetch(`${s.url}/?id=4`);
      assert.equal(full.status, 503);
      assert.equal(full.headers.get('x-portico-error'), 'QUEUE_FULL');
      assert.ok(full.headers.get('retry-after'));
      for (const r of await Promise.all(late)) {
        assert.equal(r.status, 504);
        assert.equal(r.headers.get('x-portico-error'), 'QUEUE_TIMEOUT');
      }
      up.release('0');
      up.release('1');
      for (const r of await Promise.all(first)) assert.equal(r.status, 200);
      assert.deepEqual(up.arrivals, ['0', '1']);
      const q = (s.stack.status().pools as Record<string, { queue: { timedOut: number; rejected: number } }>).web.queue;
      assert.equal(q.timedOut, 2);
      assert.equal(q.rejected, 1);
    } finally {
      await s.close();
      await up.close();
    }
  });

  test('queue: a client that leaves while queued is dropped from the queue and never forwarded', async () => {
    const up = await holdingServers();
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: up.a.url, maxConnections: 1 }] } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    const queue = () => (s.stack.status().pools as Record<string, { queue: { depth: number } }>).web.queue;
    try {
      const first = fetch(`${s.url}/?id=0`);
      await waitFor(() => up.arrivals.length === 1, 'the slot taken');
      const controller = new AbortController();
      const gone = fetch(`${s.url}/?id=1`, { signal: controller.signal }).catch((err: Error) => err.name);
      await waitFor(() => queue().depth === 1, 'one queued');
      controller.abort();
      assert.equal(await gone, 'AbortError');
      await waitFor(() => queue().depth === 0, 'the queue to drop it');
      up.release('0');
      assert.equal((await first).status, 200);
      const next = fetch(`${s.url}/?id=2`);
      await waitFor(() => up.arrivals.length === 2, 'the next request forwarded');
      assert.deepEqual(up.arrivals, ['0', '2']);
      up.release('2');
      assert.equal(await (await next).text(), 'done 2');
    } finally {
      await s.close();
      await up.close();
    }
  });
});
