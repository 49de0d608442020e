// `GET /status` / `portico status` with `processes: 2` (src/dataplane/admin-status.ts): the pool and
// cache counters are summed over every data-plane process (SO_REUSEPORT gives each a share of the
// connections), each process's own counters stay visible under its `dataPlane[]` entry, and a
// replica that is stuck (SIGSTOP) or dead (SIGKILL, restarting) never makes the status hang or fail:
// it is left out of the sums and its entry says why.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRequest } from '../src/admin/admin-client.ts';
import { Client } from 'undici';
import { startAdminServer } from '../src/admin/admin-server.ts';
import { formatTotals } from '../src/cli/commands/admin-commands.ts';
import { connection, startUp, type UpProcess } from './helpers/portico-up.ts';
import { scriptedServer, waitFor, type Scripted } from './helpers/servers.ts';

interface Server { address: string; requests: number; failures: number; inFlight: number; healthy: boolean }
interface Entry { role: string; slot: number; pid: number | null; state: string; counted: boolean; error?: string; counters?: { requests: number; pools: Record<string, { servers: Server[] }>; caches: Record<string, { hit: number; miss: number }> } }
interface Status {
  pid: number;
  aggregate: { processes: number; of: number };
  dataPlane: Entry[];
  pools: Record<string, { servers: Server[] }>;
  caches: Record<string, { hit: number; miss: number }>;
  websockets: { active: number; total: number; failed: number };
}

describe('processes: 2, GET /status totals', () => {
  let dir: string;
  let origin: Scripted;
  let up: UpProcess;
  let sent = 0;
  let cached = 0;
  const status = async () => {
    const res = await adminRequest({ socket: join(dir, '.portico', 'admin.sock') }, 'GET', '/status');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as Status;
  };
  /** One request on a fresh connection: the kernel picks the process by the new 4-tuple's hash. */
  const fresh = async (path: string) => {
    const c = connection(up.port);
    const a = await c.get(path);
    c.close();
    assert.equal(a.status, 200);
  };
  const replica = (s: Status) => s.dataPlane.find((p) => p.role === 'replica')!;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-dps-'));
    origin = await scriptedServer((req, res) => {
      res.setHeader('cache-control', req.url === '/c' ? 'max-age=600' : 'no-store');
      res.end('ok');
    });
    writeFileSync(join(dir, 'portico.config.ts'), `export default {
  processes: 2,
  listeners: [{ port: 0 }],
  accessLog: false,
  pools: { api: { servers: [{ url: ${JSON.stringify(origin.url)} }] } },
  routes: [{ name: 'cached', exactPath: '/c', upstream: 'api', cache: true }, { path: '/', upstream: 'api' }],
};\n`);
    up = await startUp(join(dir, 'portico.config.ts'));
  });
  after(async () => {
    if (up?.child.exitCode === null) {
      up.child.kill('SIGKILL');
      await up.exited;
    }
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the pool's requests and the cache's counters are sums over both processes; each process's own share is listed", async () => {
    const before = await status();
    assert.deepEqual(before.aggregate, { processes: 2, of: 2 });
    assert.deepEqual(before.dataPlane.map((p) => [p.role, p.counted, p.counters?.requests]), [['primary', true, 0], ['replica', true, 0]]);
    // Fresh connections until both processes have served some (the spread is the kernel's hash).
    await waitFor(async () => {
      for (let i = 0; i < 10; i++, sent++) await fresh(`/r${sent}`);
      for (let i = 0; i < 4; i++, cached++) await fresh('/c');
      return (await status()).dataPlane.every((p) => (p.counters?.requests ?? 0) > 0);
    }, 'requests served by both processes');
    // A pool counts a request done when its upstream body ends, which can trail the client's answer.
    const s = await waitFor(async () => { const now = await status(); return now.pools.api.servers[0].inFlight === 0 ? now : undefined; }, 'no request in flight');
    const [server] = s.pools.api.servers;
    assert.equal(server.address, `127.0.0.1:${origin.port}`);
    // The cache forwards one miss per process; hits never reach the pool.
    const misses = s.dataPlane.reduce((n, p) => n + p.counters!.caches.cached.miss, 0);
    assert.equal(server.requests, sent + misses);
    assert.equal(server.failures, 0);
    assert.equal(server.inFlight, 0);
    assert.equal(server.healthy, true);
    assert.deepEqual(s.dataPlane.map((p) => p.counters!.requests).reduce((a, b) => a + b), server.requests);
    assert.ok(s.dataPlane.every((p) => p.counters!.pools.api.servers[0].requests > 0));
    assert.equal(s.caches.cached.hit + s.caches.cached.miss, cached);
    assert.equal(s.caches.cached.miss, misses);
    assert.deepEqual(s.websockets, { active: 0, total: 0, failed: 0 });
    // `portico status` prints the totals and how many processes they cover.
    const text = formatTotals(s);
    assert.match(text, /totals over 2 of 2 data-plane processes:/);
    assert.match(text, new RegExp(`\\n {2}replica 1 \\(pid ${replica(s).pid}\\): ${replica(s).counters!.requests} pool requests\\n`));
    assert.match(text, new RegExp(`\\n {2}127\\.0\\.0\\.1:${origin.port}: up, ${server.requests} requests, 0 failures, 0 in flight, 0 ejections\\n`));
  });

  test('a stuck replica (SIGSTOP) is left out after the bound and named; the status does not hang', { timeout: 15_000 }, async () => {
    const pid = replica(await status()).pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const s = await status();
      assert.ok(Date.now() - started < 5_000, `status took ${Date.now() - started} ms`);
      assert.deepEqual(s.aggregate, { processes: 1, of: 2 });
      const r = replica(s);
      assert.deepEqual([r.pid, r.state, r.counted, r.error, r.counters], [pid, 'ready', false, 'no answer within 1000 ms', undefined]);
      // The totals are the primary's alone now.
      assert.equal(s.pools.api.servers[0].requests, s.dataPlane[0].counters!.requests);
      assert.match(formatTotals(s), /totals over 1 of 2 data-plane processes:\n.*\n {2}replica 1 \(pid \d+\): not counted \(no answer within 1000 ms\)\n/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Its late answer is dropped; the next status counts it again.
    await waitFor(async () => (await status()).aggregate.processes === 2, 'the replica counted again');
  });

  test('a purge with a stuck replica fails with 500 naming it after its bound, never hangs', { timeout: 20_000 }, async () => {
    const pid = replica(await status()).pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const client = new Client('http://localhost', { socketPath: join(dir, '.portico', 'admin.sock') });
      try {
        const res = await client.request({ method: 'POST', path: '/cache/purge', body: JSON.stringify({ prefix: `http://127.0.0.1:${up.port}/c` }) });
        const took = Date.now() - started;
        // Its cache may still hold the entries: the purge must not answer success.
        assert.equal(res.statusCode, 500);
        assert.match((await res.body.json() as { error: string }).error, /^data-plane replica 1: no answer within 5000 ms$/);
        assert.ok(took >= 4_900 && took < 10_000, `purge took ${took} ms`);
      } finally {
        await client.close();
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await status()).aggregate.processes === 2, 'the replica answering again');
  });

  test('a replica killed with SIGKILL: every status meanwhile answers 200 without it, then counts the new one', { timeout: 30_000 }, async () => {
    const old = replica(await status()).pid!;
    const mark = up.lines.length;
    process.kill(old, 'SIGKILL');
    const back = await waitFor(async () => {
      const s = await status();
      const r = replica(s);
      if (!r.counted) {
        assert.equal(s.aggregate.processes, 1);
        assert.equal(typeof r.error, 'string');
      }
      return r.pid !== old && r.state === 'ready' && r.counted ? s : undefined;
    }, 'a new replica counted', 20_000);
    await up.waitLine(/data-plane replica died; restarting/, mark);
    assert.deepEqual(back.aggregate, { processes: 2, of: 2 });
    // The dead process's counters went with it (as an nginx worker's); the new one starts at 0.
    assert.equal(replica(back).counters!.requests, 0);
    assert.equal(back.pools.api.servers[0].requests, back.dataPlane[0].counters!.requests);
  });
});

describe('admin GET /status when the status fails', () => {
  test('a handler that throws, or whose promise rejects, answers 500 with the reason', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-dps-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const status of [() => { throw new Error('sync boom'); }, () => Promise.reject(new Error('async boom'))]) {
      const socket = join(dir, 'admin.sock');
      const server = await startAdminServer({ socket }, { status, routes: () => [], reload: async () => ({}) });
      try {
        const res = await adminRequest({ socket }, 'GET', '/status');
        assert.equal(res.status, 500);
        assert.match((res.body as { error: string }).error, /^status failed: (sync|async) boom$/);
      } finally {
        server.close();
      }
    }
  });
});
