import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamPool } from './upstream-pool.ts';

const opts = { connections: 1, connectTimeout: 1000, timeout: 1000 };

test('smooth weighted round robin: weight 3 gets exactly 3 of every 4, interleaved', async () => {
  const pool = new UpstreamPool('p', [{ url: 'http://127.0.0.1:1', weight: 3 }, { url: 'http://127.0.0.1:2', weight: 1 }], opts);
  const picks = Array.from({ length: 8 }, () => pool.pick()!.address);
  assert.deepEqual(picks, ['127.0.0.1:1', '127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:1', '127.0.0.1:1', '127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:1']);
  await pool.close();
});

test('setServers keeps the state of servers that stay', async () => {
  const pool = new UpstreamPool('p', [{ url: 'http://127.0.0.1:1', weight: 1 }], opts);
  const first = pool.list()[0];
  first.requests = 7;
  pool.setServers([{ url: 'http://127.0.0.1:1', weight: 2 }, { url: 'unix:/tmp/x.sock', weight: 1 }]);
  assert.equal(pool.list()[0], first);
  assert.equal(pool.list()[0].weight, 2);
  assert.equal(pool.list()[1].address, 'unix:/tmp/x.sock');
  await pool.close();
});

test('an empty pool picks nothing', async () => {
  const pool = new UpstreamPool('p', [], opts);
  assert.equal(pool.pick(), null);
  await pool.close();
});
