// Summing per-process status (status-merge.ts): counters add up, the primary's view of health
// stays the main value and other processes' views are listed, entries only a replica has are kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeStatus, poolRequests } from './status-merge.ts';

const server = (address: string, over: Record<string, unknown> = {}) => ({
  address, weight: 1, healthy: true, draining: false, ejections: 0, ejectedFor: 0, inFlight: 0, requests: 0, failures: 0, ...over,
});
const queue = (over: Record<string, unknown> = {}) => ({ depth: 0, oldestWait: 0, queued: 0, served: 0, timedOut: 0, rejected: 0, meanWait: 0, ...over });
interface Merged {
  pid: number;
  pools: Record<string, { policy: string; queue: unknown; retries: unknown; servers: unknown[] }>;
  caches: Record<string, unknown>;
  websockets: unknown;
  inProcessApps: Record<string, unknown>;
}
const status = (over: Record<string, unknown>) => ({ pid: 1, listeners: [], routes: [], pools: {}, caches: {}, websockets: { active: 0, total: 0, failed: 0 }, inProcessApps: {}, ...over });

test('pool, cache, websocket and in-process app counters are summed; health disagreements listed, not summed', () => {
  const primary = status({
    pid: 10,
    pools: { api: { policy: 'round-robin', queue: queue({ depth: 1, oldestWait: 50, served: 1, meanWait: 10, queued: 2 }), retries: { retried: 1, denied: 0 },
      servers: [server('a:1', { requests: 5, failures: 1, inFlight: 2 }), server('b:1', { requests: 3 })] } },
    caches: { c: { hit: 1, miss: 2, stale: 0, revalidated: 0, pass: 0, coalesced: 0 } },
    websockets: { active: 1, total: 2, failed: 0 },
    inProcessApps: { shop: { mode: 'in-process', module: 'm', generation: 2, uptime: 5, requests: 7, waiting: 1 } },
  });
  const old = { policy: 'random', queue: queue(), retries: { retried: 0, denied: 0 }, servers: [server('d:1', { requests: 1 })] };
  const replica = status({
    pid: 11,
    pools: {
      api: { policy: 'round-robin', queue: queue({ depth: 2, oldestWait: 80, served: 3, meanWait: 30, queued: 3, timedOut: 1 }), retries: { retried: 2, denied: 4 },
        servers: [server('a:1', { requests: 6, inFlight: 1, ejections: 1, ejectedFor: 20, healthy: false }), server('b:1', { requests: 4 }), server('c:1', { requests: 9 })] },
      // Only the replica has it: it kept an older config after a reload it refused.
      old,
    },
    caches: { c: { hit: 3, miss: 1, stale: 1, revalidated: 0, pass: 2, coalesced: 0 } },
    websockets: { active: 2, total: 5, failed: 1 },
    inProcessApps: { shop: { mode: 'in-process', module: 'm', generation: 1, uptime: 1, requests: 3, waiting: 2 } },
  });
  const before = structuredClone(primary);
  const m = mergeStatus([{ slot: 0, status: primary }, { slot: 1, status: replica }]) as unknown as Merged;
  assert.deepEqual(primary, before, 'the inputs are not changed');
  assert.equal(m.pid, 10);
  assert.deepEqual(m.pools.api.servers, [
    server('a:1', { requests: 11, failures: 1, inFlight: 3, ejections: 1, disagreements: [{ slot: 1, healthy: false, draining: false, ejectedFor: 20 }] }),
    server('b:1', { requests: 7 }),
    server('c:1', { requests: 9 }),
  ]);
  assert.deepEqual(m.pools.api.queue, { depth: 3, oldestWait: 80, queued: 5, served: 4, timedOut: 1, rejected: 0, meanWait: 25 });
  assert.deepEqual(m.pools.api.retries, { retried: 3, denied: 4 });
  assert.equal(m.pools.api.policy, 'round-robin');
  assert.deepEqual(m.pools.old, old);
  assert.deepEqual(m.caches.c, { hit: 4, miss: 3, stale: 1, revalidated: 0, pass: 2, coalesced: 0 });
  assert.deepEqual(m.websockets, { active: 3, total: 7, failed: 1 });
  assert.deepEqual(m.inProcessApps.shop, { mode: 'in-process', module: 'm', generation: 2, uptime: 5, requests: 10, waiting: 3 });
  assert.equal(poolRequests(primary), 8);
  assert.equal(poolRequests(replica), 20);
  assert.equal(poolRequests(m as unknown as Record<string, unknown>), 28);
});

test('one process: its status as it is', () => {
  const only = status({ pools: { api: { queue: queue({ served: 2, meanWait: 4 }), retries: { retried: 0, denied: 0 }, servers: [server('a:1', { requests: 2 })] } } });
  assert.deepEqual(mergeStatus([{ slot: 0, status: only }]), only);
});
