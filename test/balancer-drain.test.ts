// Draining at runtime: through the admin API and `portico pool drain|undrain`, a server takes no
// new requests, finishes those in flight, and under load no request is lost.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { scriptedServer, waitFor } from './helpers/servers.ts';
import { UPSTREAM_CLIENTS, withClient, type UpstreamClient } from './helpers/upstream-client.ts';
import { startStack } from './helpers/stack.ts';
import { startAdminServer } from '../src/admin/admin-server.ts';
import { adminRequest } from '../src/admin/admin-client.ts';
import { main } from '../src/cli/main.ts';

type Pools = Record<string, { servers: { address: string; draining: boolean; inFlight: number }[] }>;

async function setup(client: UpstreamClient) {
  const arrivals = { a: 0, b: 0 };
  // a answers slowly so requests are in flight on it when it is drained.
  const a = await scriptedServer((_req, res) => { arrivals.a++; setTimeout(() => res.end('a'), 30); });
  const b = await scriptedServer((_req, res) => { arrivals.b++; res.end('b'); });
  const s = await startStack(withClient(client, { pools: { web: { servers: [{ url: a.url }, { url: b.url }] } }, routes: [{ path: '/', upstream: 'web' }] }));
  const admin = await startAdminServer({ host: '127.0.0.1', port: 0 }, {
    status: () => s.stack.status(),
    routes: () => s.stack.routes(),
    reload: async () => ({}),
    setDraining: (pool, server, draining) => s.stack.setDraining(pool, server, draining),
  });
  const adminPort = (admin.address() as AddressInfo).port;
  const aServer = () => (s.stack.status().pools as Pools).web.servers.find((x) => x.address === `127.0.0.1:${a.port}`)!;
  return {
    a, b, s, arrivals, adminPort, aServer,
    close: async () => {
      await new Promise((r) => admin.close(r));
      await s.close();
      await a.close();
      await b.close();
    },
  };
}

for (const client of UPSTREAM_CLIENTS) describe(`${client} upstream client`, () => {
  test('draining under load through the admin API loses no request; undrain brings the server back', async () => {
    const t = await setup(client);
    const statuses: number[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const r = await fetch(t.s.url);
        await r.text();
        statuses.push(r.status);
      }
    };
    try {
      const load = Array.from({ length: 6 }, worker);
      await waitFor(() => t.aServer().inFlight > 0, 'requests in flight on a');
      const res = await adminRequest({ host: '127.0.0.1', port: t.adminPort }, 'POST', `/pools/web/servers/${encodeURIComponent(`127.0.0.1:${t.a.port}`)}/drain`);
      assert.equal(res.status, 200);
      assert.equal(t.aServer().draining, true);
      // In-flight requests on a finish; after that a gets nothing new.
      await waitFor(() => t.aServer().inFlight === 0, 'a drained');
      const atDrain = t.arrivals.a;
      const before = statuses.length;
      await waitFor(() => statuses.length >= before + 100, '100 more requests');
      assert.equal(t.arrivals.a, atDrain);

      const back = await adminRequest({ host: '127.0.0.1', port: t.adminPort }, 'POST', `/pools/web/servers/${encodeURIComponent(t.a.url)}/undrain`);
      assert.equal(back.status, 200);
      await waitFor(() => t.arrivals.a > atDrain, 'a serving again');
      stop = true;
      await Promise.all(load);
      assert.ok(statuses.length > 100);
      assert.deepEqual(statuses.filter((x) => x !== 200), []);
    } finally {
      stop = true;
      await t.close();
    }
  });

  test('admin API: unknown pool or server is a 404 with the reason', async () => {
    const t = await setup(client);
    try {
      const pool = await adminRequest({ host: '127.0.0.1', port: t.adminPort }, 'POST', '/pools/nope/servers/x/drain');
      assert.equal(pool.status, 404);
      assert.match((pool.body as { error: string }).error, /unknown pool "nope"/);
      const server = await adminRequest({ host: '127.0.0.1', port: t.adminPort }, 'POST', `/pools/web/servers/${encodeURIComponent('10.0.0.1:80')}/drain`);
      assert.equal(server.status, 404);
      assert.match((server.body as { error: string }).error, /no server "10.0.0.1:80"/);
    } finally {
      await t.close();
    }
  });

  test('portico pool drain|undrain talks to the admin API named in the config', async () => {
    const t = await setup(client);
    const dir = mkdtempSync(join(tmpdir(), 'portico-drain-'));
    const file = join(dir, 'portico.config.mjs');
    writeFileSync(file, `export default ${JSON.stringify({
      admin: { host: '127.0.0.1', port: t.adminPort },
      pools: { web: { servers: [{ url: t.a.url }, { url: t.b.url }] } },
      routes: [{ path: '/', upstream: 'web' }],
    })};\n`);
    const out: string[] = [];
    const write = process.stdout.write;
    const writeErr = process.stderr.write;
    process.stdout.write = ((chunk: string) => { out.push(chunk); return true; }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => { out.push(chunk); return true; }) as typeof process.stderr.write;
    try {
      assert.equal(await main(['pool', 'drain', 'web', `127.0.0.1:${t.a.port}`, '--config', file]), 0);
      assert.equal(t.aServer().draining, true);
      for (let i = 0; i < 4; i++) assert.equal(await (await fetch(t.s.url)).text(), 'b');
      assert.equal(await main(['pool', 'undrain', 'web', `127.0.0.1:${t.a.port}`, '--config', file]), 0);
      assert.equal(t.aServer().draining, false);
      assert.equal(await main(['pool', 'drain', 'web', '10.9.9.9:1', '--config', file]), 1);
      assert.equal(await main(['pool', 'sideways', 'web', '--config', file]), 2);
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
      await t.close();
    }
    assert.match(out.join(''), /draining: 127\.0\.0\.1:\d+ in pool web/);
    assert.match(out.join(''), /drain refused: pool "web" has no server "10\.9\.9\.9:1"/);
  });
});
