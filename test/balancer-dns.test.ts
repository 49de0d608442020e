// DNS discovery against a real DNS server on loopback: servers are added and removed as the
// answer for the pool's host name changes; a removed server finishes its in-flight request.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './helpers/servers.ts';
import { UPSTREAM_CLIENTS, withClient } from './helpers/upstream-client.ts';
import { startStack } from './helpers/stack.ts';
import { startTestDns } from './helpers/dns-server.ts';
import { validateConfig } from '../src/config/validate.ts';

type Pools = Record<string, { servers: { address: string }[] }>;

/** One HTTP server per loopback address, all on the same port (as containers behind one name are). */
async function replicas(ips: string[]) {
  const held: http.ServerResponse[] = [];
  const servers: http.Server[] = [];
  let port = 0;
  for (const ip of ips) {
    const server = http.createServer((req, res) => {
      if (req.url === '/hold') held.push(res);
      else res.end(ip);
    });
    await new Promise<void>((resolve) => server.listen(port, ip, resolve));
    port = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  return {
    port, held,
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  };
}

for (const client of UPSTREAM_CLIENTS) describe(`${client} upstream client`, () => {
  test('DNS discovery adds and removes servers as the DNS answer changes', async () => {
    const dns = await startTestDns();
    const up = await replicas(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    dns.records.set('web.portico.test', ['127.0.0.1']);
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: `http://web.portico.test:${up.port}` }], discovery: { type: 'dns', ttl: '100ms', resolver: dns.address } } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    const addresses = () => (s.stack.status().pools as Pools).web.servers.map((x) => x.address).sort();
    const answers = async (n: number) => {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) seen.add(await (await fetch(s.url)).text());
      return [...seen].sort();
    };
    try {
      // The stack starts with the first answer in place.
      assert.deepEqual(addresses(), [`127.0.0.1:${up.port}`]);
      assert.deepEqual(await answers(3), ['127.0.0.1']);

      dns.records.set('web.portico.test', ['127.0.0.1', '127.0.0.2', '127.0.0.3']);
      await waitFor(() => addresses().length === 3, 'three servers');
      assert.deepEqual(await answers(9), ['127.0.0.1', '127.0.0.2', '127.0.0.3']);

      // A request in flight on a server that leaves the answer still completes.
      const pending = fetch(`${s.url}/hold`);
      await waitFor(() => up.held.length === 1, 'a request held');
      const holder = (s.stack.status().pools as Record<string, { servers: { address: string; inFlight: number }[] }>).web.servers.find((x) => x.inFlight === 1)!.address.split(':')[0];
      dns.records.set('web.portico.test', ['127.0.0.1', '127.0.0.2', '127.0.0.3'].filter((ip) => ip !== holder));
      await waitFor(() => addresses().length === 2, 'the server to leave');
      assert.ok(!(await answers(6)).includes(holder));
      up.held[0].end('held done');
      const r = await pending;
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'held done');

      // A failed lookup (the DNS server is gone) keeps the last answer.
      const queries = dns.queries;
      await dns.close();
      await waitFor(() => s.logs.some((l) => l.includes('DNS lookup of web.portico.test failed')), 'a failed lookup', 15_000);
      assert.equal(addresses().length, 2);
      assert.ok(queries > 4);
    } finally {
      await s.close();
      await up.close();
    }
  });

  test('a name with no address leaves the pool empty: 503, until the name resolves', async () => {
    const dns = await startTestDns();
    const up = await replicas(['127.0.0.1']);
    dns.records.set('empty.portico.test', []);
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: `http://empty.portico.test:${up.port}` }], discovery: { type: 'dns', ttl: '100ms', resolver: dns.address } } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    try {
      assert.equal((await fetch(s.url)).status, 503);
      dns.records.set('empty.portico.test', ['127.0.0.1']);
      await waitFor(async () => (await fetch(s.url)).status === 200, 'the name to resolve');
    } finally {
      await s.close();
      await up.close();
      await dns.close();
    }
  });

  test('a reload that turns DNS discovery on keeps serving the old list until the name has answered', async () => {
    const dns = await startTestDns();
    const up = await replicas(['127.0.0.1', '127.0.0.2']);
    dns.records.set('web.portico.test', ['127.0.0.2']);
    const base = { routes: [{ path: '/', upstream: 'web' }] };
    const s = await startStack(withClient(client, { ...base, pools: { web: { servers: [{ url: `http://127.0.0.1:${up.port}` }] } } }));
    const addresses = () => (s.stack.status().pools as Pools).web.servers.map((x) => x.address);
    try {
      assert.equal(await (await fetch(s.url)).text(), '127.0.0.1');
      dns.hold = true;
      const next = validateConfig({
        ...base, listeners: [{ host: '127.0.0.1', port: 0 }],
        pools: { web: { servers: [{ url: `http://web.portico.test:${up.port}` }], discovery: { type: 'dns', ttl: '1h', resolver: dns.address } } },
      }, process.cwd());
      assert.ok(next.ok);
      await s.stack.reload(next.config);
      await waitFor(() => dns.queries > 0, 'the lookup to start');
      // While the name is being looked up, the old server still answers (no 503 from an empty pool).
      assert.deepEqual(addresses(), [`127.0.0.1:${up.port}`]);
      const during = await fetch(s.url);
      assert.equal(during.status, 200);
      assert.equal(await during.text(), '127.0.0.1');
      dns.release();
      await waitFor(() => addresses().join() === `127.0.0.2:${up.port}`, 'the discovered server');
      assert.equal(await (await fetch(s.url)).text(), '127.0.0.2');
    } finally {
      await s.close();
      await up.close();
      await dns.close();
    }
  });
});
