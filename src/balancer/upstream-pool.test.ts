import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamPool } from './upstream-pool.ts';
import type { PickRequest } from './policies/policy.ts';

const opts = { connections: 1, connectTimeout: 1000, timeout: 1000 };
const req: PickRequest = { clientAddress: '127.0.0.1', headers: {}, exclude: null };

test('smooth weighted round robin: weight 3 gets exactly 3 of every 4, interleaved', async () => {
  const pool = new UpstreamPool('p', [{ url: 'http://127.0.0.1:1', weight: 3 }, { url: 'http://127.0.0.1:2', weight: 1 }], opts);
  const picks = Array.from({ length: 8 }, () => pool.pick(req)!.address);
  assert.deepEqual(picks, ['127.0.0.1:1', '127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:1', '127.0.0.1:1', '127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:1']);
  await pool.close();
});

test('setServers keeps the state of servers that stay', async () => {
  const pool = new UpstreamPool('p', [{ url: 'http://127.0.0.1:1', weight: 1 }], opts);
  const first = pool.list()[0];
  first.requests = 7;
  first.healthy = false;
  first.draining = true;
  pool.setServers([{ url: 'http://127.0.0.1:1', weight: 2, maxConnections: 4 }, { url: 'unix:/tmp/x.sock', weight: 1 }]);
  assert.equal(pool.list()[0], first);
  assert.equal(pool.list()[0].weight, 2);
  assert.equal(pool.list()[0].maxConnections, 4);
  assert.equal(first.healthy, false);
  assert.equal(first.draining, true);
  assert.equal(pool.list()[1].address, 'unix:/tmp/x.sock');
  await pool.close();
});

test('an empty pool picks nothing and answers 503 with Retry-After', async () => {
  const pool = new UpstreamPool('p', [], opts, { retryAfter: 7 });
  assert.equal(pool.pick(req), null);
  assert.throws(() => pool.acquire(req), (err: { status: number; code: string; headers: Record<string, string> }) =>
    err.status === 503 && err.code === 'NO_UPSTREAM' && err.headers['retry-after'] === '7');
  await pool.close();
});

test('backup servers take requests only when no primary is available', async () => {
  const pool = new UpstreamPool('p', [{ url: 'http://127.0.0.1:1', weight: 1 }, { url: 'http://127.0.0.1:2', weight: 1, backup: true }], opts);
  const [primary, backup] = pool.list();
  for (let i = 0; i < 10; i++) assert.equal(pool.pick(req), primary);
  primary.healthy = false;
  assert.equal(pool.pick(req), backup);
  primary.healthy = true;
  assert.equal(pool.pick(req), primary);
  await pool.close();
});

test('queue: full servers make requests wait in FIFO order; released slots serve them', async () => {
  const pool = new UpstreamPool('p', [{ url: 'http://127.0.0.1:1', weight: 1, maxConnections: 1 }], opts, { queue: { maxLength: 2, timeout: 60_000 } });
  const s = pool.acquire(req);
  assert.ok(!(s instanceof Promise));
  const order: number[] = [];
  const a = (pool.acquire(req) as Promise<unknown>).then(() => order.push(1));
  const b = (pool.acquire(req) as Promise<unknown>).then(() => order.push(2));
  assert.equal(pool.status().queue.depth, 2);
  assert.throws(() => pool.acquire(req), { status: 503, code: 'QUEUE_FULL' });
  pool.release(s);
  await a;
  pool.release(s);
  await b;
  assert.deepEqual(order, [1, 2]);
  const q = pool.status().queue;
  assert.equal(q.depth, 0);
  assert.equal(q.served, 2);
  assert.equal(q.rejected, 1);
  await pool.close();
});

test('queue: a request that waits past queue.timeout gets 504; an aborted one leaves the queue', async () => {
  const pool = new UpstreamPool('p', [{ url: 'http://127.0.0.1:1', weight: 1, maxConnections: 1 }], opts, { queue: { maxLength: 10, timeout: 50 } });
  pool.acquire(req);
  await assert.rejects(pool.acquire(req) as Promise<unknown>, { status: 504, code: 'QUEUE_TIMEOUT' });
  const controller = new AbortController();
  const waiting = pool.acquire(req, controller.signal) as Promise<unknown>;
  controller.abort(new Error('gone'));
  await assert.rejects(waiting, /gone/);
  assert.equal(pool.status().queue.depth, 0);
  assert.equal(pool.status().queue.timedOut, 1);
  await pool.close();
});

test('queue: when the last server goes away, waiting requests get the all-down 503', async () => {
  const pool = new UpstreamPool('p', [{ url: 'http://127.0.0.1:1', weight: 1, maxConnections: 1 }], opts);
  pool.acquire(req);
  const waiting = pool.acquire(req) as Promise<unknown>;
  assert.equal(pool.setDraining('127.0.0.1:1', true), true);
  await assert.rejects(waiting, { status: 503, code: 'NO_UPSTREAM' });
  assert.equal(pool.setDraining('127.0.0.1:9', true), false);
  await pool.close();
});

test('slow start: servers added later and servers restored ramp up; the first list does not', async () => {
  const pool = new UpstreamPool('p', [{ url: 'http://127.0.0.1:1', weight: 2 }], opts, { slowStart: 60_000 });
  const [first] = pool.list();
  assert.equal(first.effectiveWeight, 2);
  pool.setServers([{ url: 'http://127.0.0.1:1', weight: 2 }, { url: 'http://127.0.0.1:2', weight: 2 }]);
  const added = pool.list()[1];
  assert.ok(added.effectiveWeight < 0.3, `added server at ${added.effectiveWeight}`);
  first.healthy = false;
  pool.restored(first);
  assert.ok(first.effectiveWeight < 0.3);
  // Past the window: full weight again.
  first.slowStartUntil = Date.now() - 1;
  assert.equal(first.effectiveWeight, 2);
  assert.equal(first.slowStartUntil, 0);
  await pool.close();
});
