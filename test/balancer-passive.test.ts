// Passive ejection end to end: failures seen in traffic take a server out for a growing period;
// with active checks configured, only the checks bring it back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { scriptedServer, waitFor } from './helpers/servers.ts';
import { UPSTREAM_CLIENTS, withClient } from './helpers/upstream-client.ts';
import { startStack } from './helpers/stack.ts';

type Pools = Record<string, { servers: { address: string; healthy: boolean; ejections: number; ejectedFor: number }[] }>;

async function pair() {
  const state = { failing: true, healthOk: true };
  const bad = await scriptedServer((req, res) => {
    if (req.url === '/health') {
      res.statusCode = state.healthOk ? 200 : 503;
      res.end();
      return;
    }
    res.statusCode = state.failing ? 500 : 200;
    res.end('bad');
  });
  const good = await scriptedServer((_req, res) => res.end('good'));
  return { bad, good, state, close: async () => { await bad.close(); await good.close(); } };
}

for (const client of UPSTREAM_CLIENTS) describe(`${client} upstream client`, () => {
  test('consecutive 5xx eject a server for a period that doubles per ejection in a row', async () => {
    const p = await pair();
    const s = await startStack(withClient(client, {
      pools: { web: { servers: [{ url: p.bad.url }, { url: p.good.url }], policy: 'round-robin', passive: { failures: 3, ejectFor: '150ms' } } },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    const bad = () => (s.stack.status().pools as Pools).web.servers.find((x) => x.address === `127.0.0.1:${p.bad.port}`)!;
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await fetch(s.url)).status);
      // Round robin: 3 of the 6 went to the bad server, the third of them ejected it.
      assert.deepEqual(statuses.filter((x) => x === 500).length, 3);
      assert.equal(bad().healthy, false);
      assert.equal(bad().ejectedFor, 150);
      for (let i = 0; i < 4; i++) assert.equal(await (await fetch(s.url)).text(), 'good');

      // Back after the period; still failing, so out again, for twice as long.
      await waitFor(() => bad().healthy, 'the first ejection to end');
      await waitFor(async () => { await fetch(s.url); return !bad().healthy; }, 'the second ejection');
      assert.equal(bad().ejections, 2);
      assert.equal(bad().ejectedFor, 300);
      assert.ok(s.logs.some((l) => l.includes(`server 127.0.0.1:${p.bad.port} ejected for 150 ms after 3 failures in a row`)), s.logs.join('\n'));
    } finally {
      await s.close();
      await p.close();
    }
  });

  test('with active checks, an ejected server comes back only when the checks pass', async () => {
    const p = await pair();
    p.state.healthOk = false;
    const s = await startStack(withClient(client, {
      pools: {
        web: {
          servers: [{ url: p.bad.url }, { url: p.good.url }], policy: 'round-robin',
          passive: { failures: 2, ejectFor: '50ms' },
          // fall is high so the checks alone never mark the server down within this test.
          healthCheck: { path: '/health', interval: '50ms', rise: 2, fall: 1000 },
        },
      },
      routes: [{ path: '/', upstream: 'web' }],
    }));
    const bad = () => (s.stack.status().pools as Pools).web.servers.find((x) => x.address === `127.0.0.1:${p.bad.port}`)!;
    try {
      for (let i = 0; i < 4; i++) await fetch(s.url);
      assert.equal(bad().healthy, false);
      // Many ejection periods pass; failing checks keep it out.
      const until = Date.now() + 400;
      await waitFor(async () => { assert.equal(bad().healthy, false); assert.equal(await (await fetch(s.url)).text(), 'good'); return Date.now() > until; }, 'time to pass');
      p.state.healthOk = true;
      p.state.failing = false;
      await waitFor(() => bad().healthy, 'checks to bring it back');
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add(await (await fetch(s.url)).text());
      assert.deepEqual([...seen].sort(), ['bad', 'good']);
    } finally {
      await s.close();
      await p.close();
    }
  });
});
