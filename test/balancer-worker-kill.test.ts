// kill -9 of an app worker under load loses no GET: requests in flight on the dead worker's
// connections fail before any response byte, and the balancer retries them on another worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { startStack } from './helpers/stack.ts';
import { waitFor } from './helpers/servers.ts';

const fetchApp = fileURLToPath(new URL('./fixtures/apps/fetch-app.ts', import.meta.url));

test('kill -9 a worker under load: no GET fails', async (t) => {
  const s = await startStack({ apps: { hello: { module: fetchApp, workers: 2 } }, routes: [{ path: '/', app: 'hello' }] });
  t.after(() => s.close());
  const agent = new Agent({ connections: 16 });
  t.after(() => agent.close());
  const pids = () => ((s.stack.status().apps as Record<string, { pid: number; state?: string }[]>).hello).map((w) => w.pid);
  const failures: string[] = [];
  let done = 0;
  let running = true;
  // Slow requests keep some in flight on the worker at the moment it dies.
  const clients = Array.from({ length: 8 }, async (_, i) => {
    for (let n = 0; running && n < 2_000; n++) {
      try {
        const r = await request(`${s.url}${n % 2 === i % 2 ? '/slow?ms=40' : '/'}`, { dispatcher: agent });
        const body = await r.body.text();
        if (r.statusCode !== 200) failures.push(`${r.statusCode} ${body.slice(0, 200)}`);
      } catch (err) {
        failures.push(String(err));
      }
      done++;
    }
  });
  await waitFor(() => done >= 50, 'load to warm up');
  const [victim, survivor] = pids();
  process.kill(victim, 'SIGKILL');
  await waitFor(() => { const now = pids(); return now.length === 2 && !now.includes(victim) && now.includes(survivor); }, 'the worker to be replaced', 15_000);
  const after = done;
  await waitFor(() => done >= after + 100, 'load to continue on the new worker');
  running = false;
  await Promise.all(clients);
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${done} requests failed`);
  const retried = (s.stack.status().pools as Record<string, { retries: { retried: number } }>)['app:hello'].retries.retried;
  t.diagnostic(`retried ${retried} of ${done}`);
});
