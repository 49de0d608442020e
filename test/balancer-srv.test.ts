// SRV discovery (RFC 2782) against a real DNS server on loopback: the pool's servers are the SRV
// answer's targets (resolved to addresses) and ports, weighted by the SRV weight, the lowest
// priority serving and the others as backups; servers come and go as the answer changes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { scriptedServer, waitFor, type Scripted } from './helpers/servers.ts';
import { UPSTREAM_CLIENTS, withClient } from './helpers/upstream-client.ts';
import { startStack } from './helpers/stack.ts';
import { startTestDns } from './helpers/dns-server.ts';
import { validateConfig } from '../src/config/validate.ts';

type Servers = { address: string; weight: number; backup: boolean; inFlight: number }[];
const SRV = '_http._tcp.web.portico.test';

/** A server answering its own name; `/hold` requests wait until the test ends them. */
async function named(name: string, held: http.ServerResponse[]): Promise<Scripted> {
  return scriptedServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end(name);
  });
}

async function counts(url: string, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const body = await (await fetch(url)).text();
    seen[body] = (seen[body] ?? 0) + 1;
  }
  return seen;
}

for (const client of UPSTREAM_CLIENTS) describe(`${client} upstream client`, () => {
  test('SRV discovery: targets and ports become servers, SRV weight their weight, higher priorities backups; the answer changes the pool', async () => {
    const held: http.ServerResponse[] = [];
    const [a, b, c, d] = [await named('a', held), await named('b', held), await named('c', held), await named('d', held)];
    const dns = await startTestDns();
    for (const t of ['a', 'b', 'c', 'd']) dns.records.set(`${t}.portico.test`, ['127.0.0.1']);
    dns.srv.set(SRV, [
      { priority: 10, weight: 3, port: a.port, target: 'a.portico.test' },
      { priority: 10, weight: 1, port: b.port, target: 'b.portico.test' },
      { priority: 20, weight: 1, port: c.port, target: 'c.portico.test' },
    ]);
    const s = await startStack(withClient(client, {
      pools: { web: { discovery: { type: 'dns-srv', name: SRV, ttl: '100ms', resolver: dns.address } } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    const servers = () => ((s.stack.status().pools as Record<string, { servers: Servers }>).web.servers);
    type Row = [port: number, weight: number, backup: boolean];
    const byPort = (p: Row, q: Row) => p[0] - q[0];
    const shape = () => servers().map((x): Row => [Number(x.address.split(':')[1]), x.weight, x.backup]).sort(byPort);
    const sorted = (rows: [Scripted, number, boolean][]) => rows.map(([srv, w, backup]): Row => [srv.port, w, backup]).sort(byPort);
    try {
      // The stack starts with the first answer in place.
      assert.deepEqual(shape(), sorted([[a, 3, false], [b, 1, false], [c, 1, true]]));
      // Weighted round robin over the primaries: a 3 of every 4; the backup gets nothing.
      assert.deepEqual(await counts(s.url, 8), { a: 6, b: 2 });

      // A new record joins; a record that leaves takes its server out, after its in-flight request.
      const pending = fetch(`${s.url}/hold`);
      await waitFor(() => held.length === 1, 'a request held');
      const holder = servers().find((x) => x.inFlight === 1)!.address;
      const leaving = holder.endsWith(`:${a.port}`) ? a : b;
      const staying = leaving === a ? b : a;
      dns.srv.set(SRV, [
        { priority: 10, weight: 1, port: staying.port, target: staying === a ? 'a.portico.test' : 'b.portico.test' },
        { priority: 10, weight: 2, port: d.port, target: 'd.portico.test' },
        { priority: 20, weight: 1, port: c.port, target: 'c.portico.test' },
      ]);
      await waitFor(() => servers().some((x) => x.address.endsWith(`:${d.port}`)) && !servers().some((x) => x.address === holder), 'the answer to change');
      assert.deepEqual(shape(), sorted([[staying, 1, false], [d, 2, false], [c, 1, true]]));
      const seen = await counts(s.url, 6);
      assert.deepEqual(Object.keys(seen).sort(), [staying === a ? 'a' : 'b', 'd'].sort());
      held[0].end('held done');
      assert.equal(await (await pending).text(), 'held done');

      // Only the priority-20 record is left: it is now the lowest priority present, so primary.
      dns.srv.set(SRV, [{ priority: 20, weight: 1, port: c.port, target: 'c.portico.test' }]);
      await waitFor(() => servers().length === 1 && !servers()[0].backup, 'the backup to become primary');
      assert.deepEqual(await counts(s.url, 3), { c: 3 });

      // A failed lookup (the DNS server is gone) keeps the last answer.
      await dns.close();
      await waitFor(() => s.logs.some((l) => l.includes(`SRV lookup of ${SRV} failed`)), 'a failed lookup', 15_000);
      assert.deepEqual(shape(), sorted([[c, 1, false]]));
      assert.deepEqual(await counts(s.url, 2), { c: 2 });
    } finally {
      for (const res of held) res.destroy();
      await s.close();
      for (const x of [a, b, c, d]) await x.close();
    }
  });

  test('SRV discovery: a target with several addresses is one server per address; no such name and target "." leave the pool empty (503)', async () => {
    const replicas: http.Server[] = [];
    let port = 0;
    for (const ip of ['127.0.0.2', '127.0.0.3']) {
      const server = http.createServer((_req, res) => res.end(ip));
      await new Promise<void>((resolve) => server.listen(port, ip, resolve));
      port = (server.address() as AddressInfo).port;
      replicas.push(server);
    }
    const dns = await startTestDns();
    dns.records.set('multi.portico.test', ['127.0.0.2', '127.0.0.3']);
    // No SRV records yet: NXDOMAIN.
    const s = await startStack(withClient(client, {
      pools: { web: { discovery: { type: 'dns-srv', name: `${SRV}.`, ttl: '100ms', resolver: dns.address } } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    const addresses = () => ((s.stack.status().pools as Record<string, { servers: Servers }>).web.servers).map((x) => x.address).sort();
    try {
      assert.deepEqual(addresses(), []);
      assert.equal((await fetch(s.url)).status, 503);

      dns.srv.set(SRV, [{ priority: 0, weight: 0, port, target: 'multi.portico.test' }]);
      await waitFor(() => addresses().length === 2, 'both addresses of the target');
      assert.deepEqual(addresses(), [`127.0.0.2:${port}`, `127.0.0.3:${port}`]);
      assert.deepEqual(Object.keys(await counts(s.url, 4)).sort(), ['127.0.0.2', '127.0.0.3']);

      // RFC 2782: target "." says the service is decidedly not available.
      dns.srv.set(SRV, [{ priority: 0, weight: 0, port: 80, target: '.' }]);
      await waitFor(() => addresses().length === 0, 'the pool to empty');
      assert.equal((await fetch(s.url)).status, 503);
    } finally {
      await s.close();
      await dns.close();
      for (const server of replicas) await new Promise((r) => server.close(r));
    }
  });

  test('a reload switches a pool between static servers, one SRV name and another', async () => {
    const held: http.ServerResponse[] = [];
    const [x, y, z] = [await named('x', held), await named('y', held), await named('z', held)];
    const dns = await startTestDns();
    dns.records.set('y.portico.test', ['127.0.0.1']);
    dns.records.set('z.portico.test', ['127.0.0.1']);
    dns.srv.set(SRV, [{ priority: 1, weight: 1, port: y.port, target: 'y.portico.test' }]);
    dns.srv.set('_http._tcp.other.portico.test', [{ priority: 1, weight: 1, port: z.port, target: 'z.portico.test' }]);
    const routes = [{ path: '/', upstream: 'web' }];
    const s = await startStack(withClient(client, { pools: { web: { servers: [{ url: x.url }] } }, routes }));
    const reload = async (pool: Record<string, unknown>) => {
      const next = validateConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], runtimeDir: s.stack.config.runtimeDir, pools: { web: pool }, routes }, process.cwd());
      assert.ok(next.ok, next.ok ? '' : JSON.stringify(next.issues));
      await s.stack.reload(next.config);
    };
    const answer = async () => (await fetch(s.url)).text();
    try {
      assert.equal(await answer(), 'x');
      await reload({ discovery: { type: 'dns-srv', name: SRV, ttl: '100ms', resolver: dns.address } });
      await waitFor(async () => (await answer()) === 'y', 'the SRV answer to serve');
      await reload({ discovery: { type: 'dns-srv', name: '_http._tcp.other.portico.test', ttl: '100ms', resolver: dns.address } });
      await waitFor(async () => (await answer()) === 'z', 'the other SRV name to serve');
      const mid = (s.stack.status().pools as Record<string, { discovery: { name: string } }>).web.discovery;
      assert.equal(mid.name, '_http._tcp.other.portico.test');
      await reload({ servers: [{ url: x.url }] });
      assert.equal(await answer(), 'x');
      // Discovery is gone (not merely idle): the pool reports none and keeps its static server.
      const web = (s.stack.status().pools as Record<string, { servers: Servers; discovery?: unknown }>).web;
      assert.equal(web.discovery, undefined);
      assert.deepEqual(web.servers.map((v) => v.address), [`127.0.0.1:${x.port}`]);
    } finally {
      await s.close();
      await dns.close();
      for (const v of [x, y, z]) await v.close();
    }
  });

  test('dns-srv config: the SRV answer replaces "servers"; mistakes name the field', () => {
    const check = (pool: Record<string, unknown>) => {
      const r = validateConfig({ pools: { web: pool }, routes: [{ path: '/', upstream: 'web' }] }, process.cwd());
      return r.ok ? r.config.pools.web : r.issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    };
    const ok = check({ discovery: { type: 'dns-srv', name: '_HTTP._tcp.Web.Example.', resolver: '127.0.0.1:53' } });
    assert.ok(typeof ok !== 'string', ok as string);
    assert.deepEqual(ok.servers, []);
    assert.deepEqual(ok.discovery, { type: 'dns-srv', name: '_http._tcp.web.example', ttl: 30_000, resolver: '127.0.0.1:53' });

    assert.match(check({ servers: [{ url: 'http://127.0.0.1:1' }], discovery: { type: 'dns-srv', name: SRV } }) as string, /pools\.web\.servers: with discovery "dns-srv" the servers are the SRV answer/);
    assert.match(check({ discovery: { type: 'dns-srv' } }) as string, /pools\.web\.discovery\.name: discovery "dns-srv" needs the SRV "name"/);
    assert.match(check({ discovery: { type: 'dns-srv', name: 'web.example' } }) as string, /pools\.web\.discovery\.name: expected an SRV name/);
    assert.match(check({ servers: [{ url: 'http://web:1' }], discovery: { type: 'dns', name: SRV } }) as string, /pools\.web\.discovery\.name: "name" applies only to discovery "dns-srv"/);
    // Without SRV discovery a pool still needs servers.
    assert.match(check({ discovery: { type: 'dns' } }) as string, /pools\.web\.servers: a pool needs at least one server/);
    assert.match(check({}) as string, /pools\.web\.servers: a pool needs at least one server/);
  });
});
